package identity

import (
	"crypto/subtle"
	"encoding/base32"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTPIssuer names galenix in the person's authenticator app.
const TOTPIssuer = "galenix"

// totpOpts are the code's parameters: those of RFC 6238 that every
// authenticator app knows (30 s, 6 digits, SHA-1), and one step of clock
// drift either way.
var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTP makes a new second-factor secret for the username.
func NewTOTP(username string) (TOTPEnrollment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: username, Period: totpOpts.Period,
		Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm})
	if err != nil {
		return TOTPEnrollment{}, err
	}
	return TOTPEnrollment{Secret: key.Secret(), URL: key.URL()}, nil
}

// TOTPFor returns the enrollment of an existing secret, its otpauth://
// address made again.
func TOTPFor(username, secret string) (TOTPEnrollment, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: username, Secret: raw, Period: totpOpts.Period,
		Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm})
	if err != nil {
		return TOTPEnrollment{}, err
	}
	return TOTPEnrollment{Secret: key.Secret(), URL: key.URL()}, nil
}

// CheckTOTP reports whether code is the secret's code at the time, or one
// step before or after. Spaces in the code ("123 456") are ignored.
func CheckTOTP(secret, code string, at time.Time) bool {
	_, ok := MatchTOTP(secret, code, at)
	return ok
}

// TOTPStep is the time step of RFC 6238 a time falls in: the seconds since
// the Unix epoch divided by the period.
func TOTPStep(at time.Time) int64 { return at.Unix() / int64(totpOpts.Period) }

// MatchTOTP returns the time step whose code the code is, among the step of
// the time and the one before and after it (clock drift), and whether it is
// one of them. Spaces in the code are ignored. A verifier keeps the step of
// the last code it accepted and refuses a code whose step is not after it,
// so that a code is accepted once (RFC 6238 §5.2). Should two steps share
// the code, the latest is returned: the one that refuses more afterwards.
func MatchTOTP(secret, code string, at time.Time) (int64, bool) {
	code = strings.Join(strings.Fields(code), "")
	if secret == "" || len(code) != totpOpts.Digits.Length() {
		return 0, false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	now := TOTPStep(at)
	for d := int64(totpOpts.Skew); d >= -int64(totpOpts.Skew); d-- {
		step := now + d
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*int64(totpOpts.Period), 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// TOTPCode returns the secret's code at the time; tests use it as an
// authenticator app would.
func TOTPCode(secret string, at time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, at, totpOpts)
}
