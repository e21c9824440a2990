#!/usr/bin/env bash
# Reference verifier of galenix audit bundles (galenix-audit-bundle/1), as
# docs/audit-bundle.md specifies them, written with standard tools only:
# bash, jq (1.6 or later), openssl (3.0 or later, for Ed25519) and
# sha256sum. It checks what `galenix audit verify --bundle` checks, in the
# same order, and names the first entry that does not hold in the same words.
#
# Usage: verify-bundle.sh [--public-key FILE | --fingerprint HEX] BUNDLE.json
#
#   --public-key FILE  the site's public key (PEM) the bundle must be signed with
#   --fingerprint HEX  the SHA-256 of the site's key, as `galenix audit key` and
#                      the administration page show it
#
# Exit status: 0 the bundle holds; 1 it does not (a line "FAILED: ..." says
# why); 2 wrong usage or a missing tool.
set -euo pipefail
export LC_ALL=C

usage() { echo "usage: $0 [--public-key FILE | --fingerprint HEX] BUNDLE.json" >&2; exit 2; }
pubfile="" fingerprint="" file=""
while [ $# -gt 0 ]; do
	case $1 in
	--public-key) [ $# -ge 2 ] || usage; pubfile=$2; shift 2 ;;
	--fingerprint) [ $# -ge 2 ] || usage; fingerprint=$2; shift 2 ;;
	-h | --help) usage ;;
	-*) usage ;;
	*) [ -z "$file" ] || usage; file=$1; shift ;;
	esac
done
[ -n "$file" ] || usage
for tool in jq openssl sha256sum; do
	command -v "$tool" >/dev/null || { echo "$0: $tool is needed" >&2; exit 2; }
done
[ -r "$file" ] || { echo "$0: cannot read $file" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

notbundle() { echo "FAILED: $file: not an audit bundle: $*"; exit 1; }
broken() { echo "FAILED: audit entry $1 does not hold: $2"; exit 1; }

# --- 1. The file is one JSON value, shaped as the specification says. -----
count=$(jq -s 'length' "$file" 2>/dev/null) || notbundle "it is not JSON"
[ "$count" = 1 ] || notbundle "it is not one JSON value"

problem=$(jq -r '
	def members($where; $req; $opt):
		if type != "object" then "\($where) is not an object"
		else ($req[] as $k | select(has($k) | not) | "\($where) lacks \"\($k)\""),
			(keys_unsorted[] as $k | select(any(($req + $opt)[]; . == $k) | not) | "\($where) has an unknown member \"\($k)\"")
		end;
	def str($where; $k): select(has($k) and (.[$k] | type) != "string") | "\($where).\($k) is not a string";
	def int($where; $k): select(has($k)) | .[$k] as $v |
		if ($v | type) != "number" then "\($where).\($k) is not a number"
		elif $v != ($v | floor) or $v < 1 or $v > 9007199254740991 then "\($where).\($k) is not an integer from 1 to 2^53-1"
		else empty end;
	def leap: . % 4 == 0 and (. % 100 != 0 or . % 400 == 0);
	def timeok:
		test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?Z$") and
		((.[0:4] | tonumber) as $y | (.[5:7] | tonumber) as $m | (.[8:10] | tonumber) as $d |
		 [31, (if $y | leap then 29 else 28 end), 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as $days |
		 $m >= 1 and $m <= 12 and $d >= 1 and $d <= $days[$m - 1] and
		 (.[11:13] | tonumber) <= 23 and (.[14:16] | tonumber) <= 59 and (.[17:19] | tonumber) <= 59);
	def time($where; $k): select(has($k) and (.[$k] | type) == "string" and (.[$k] | timeok | not)) |
		"\($where).\($k) is not a time in RFC 3339 UTC (YYYY-MM-DDTHH:MM:SS[.fraction]Z)";
	def b64($where; $k): select(has($k) and (.[$k] | type) == "string" and
		(.[$k] | test("^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$") | not)) |
		"\($where).\($k) is not canonical base64";
	def arr($where; $k): select(has($k) and (.[$k] | type) != "array") | "\($where).\($k) is not an array";
	def entry($where):
		members($where; ["seq", "at", "actor_id", "actor_name", "command", "entity", "entity_id", "field", "old", "new", "prev_hash", "hash"];
			["session_id", "address", "reason", "client_id"]),
		(select(type == "object") | int($where; "seq"),
			(("at", "actor_id", "actor_name", "session_id", "address", "command", "entity", "entity_id", "field", "old", "new",
			  "reason", "client_id", "prev_hash", "hash") as $k | str($where; $k)),
			time($where; "at"));
	def checkpoint($where):
		members($where; ["seq", "hash", "at", "signature"]; ["key", "next_key", "next_signature"]),
		(select(type == "object") | int($where; "seq"),
			(("hash", "at", "signature", "key", "next_key", "next_signature") as $k | str($where; $k)),
			time($where; "at"), (("signature", "key", "next_key", "next_signature") as $k | b64($where; $k)));
	def segment($where):
		members($where; ["first", "prev_hash", "others", "checkpoint"]; []),
		(select(type == "object") | int($where; "first"), str($where; "prev_hash"), arr($where; "others"),
			(.others | select(type == "array") | to_entries[] | "\($where).others[\(.key)]" as $w | .value |
				members($w; ["seq", "digest"]; []), (select(type == "object") | int($w; "seq"), str($w; "digest"))),
			(select(has("checkpoint")) | .checkpoint | checkpoint("\($where).checkpoint")));
	[members("the bundle"; ["format", "entity", "entity_id", "entries", "segments", "public_key"]; []),
	 (select(type == "object") |
		(("format", "entity", "entity_id", "public_key") as $k | str("the bundle"; $k)),
		arr("the bundle"; "entries"), arr("the bundle"; "segments"),
		(.entries | select(type == "array") | to_entries[] | .key as $i | .value | entry("entries[\($i)]")),
		(.segments | select(type == "array") | to_entries[] | .key as $i | .value | segment("segments[\($i)]")),
		(select(.format != "galenix-audit-bundle/1") | "its format is \(.format | tojson), not \"galenix-audit-bundle/1\""))
	] | first // empty' "$file") || notbundle "it cannot be read"
[ -z "$problem" ] || notbundle "$problem"

# --- 2. The site's public key: one PEM block of an Ed25519 key. ------------
jq -j '.public_key' "$file" >"$tmp/key.pem"
openssl pkey -pubin -in "$tmp/key.pem" -out "$tmp/key.again.pem" 2>/dev/null ||
	notbundle "its public key cannot be read"
keyder=$(openssl pkey -pubin -in "$tmp/key.pem" -outform DER 2>/dev/null | openssl base64 -A)
# The DER of an Ed25519 SubjectPublicKeyInfo is 12 fixed bytes (in base64
# MCowBQYDK2VwAyEA) then the key's 32 bytes.
case $keyder in MCowBQYDK2VwAyEA*) ;; *) notbundle "its public key cannot be read: not an Ed25519 public key" ;; esac
cmp -s "$tmp/key.pem" "$tmp/key.again.pem" ||
	notbundle "its public key is not written as one PEM block of an Ed25519 key"
keyfp=$(openssl pkey -pubin -in "$tmp/key.pem" -outform DER | sha256sum)
keyfp=${keyfp%% *}

[ "$(jq '(.entries | length) > 0 and (.segments | length) > 0' "$file")" = true ] ||
	notbundle "it holds no entries or no segments"

# --- 3. The record's entries: all about the record, in sequence order. ----
out=$(jq -r '.entity as $entity | .entity_id as $id | .entries as $es | first(
	range(0; $es | length) as $i | $es[$i] |
	if .entity != $entity or .entity_id != $id then "\(.seq)|it is about \(.entity) \(.entity_id), not about the bundle'"'"'s record"
	elif $i > 0 and .seq <= $es[$i - 1].seq then "\(.seq)|the record'"'"'s entries are not in sequence order"
	else empty end) // empty' "$file")
[ -z "$out" ] || broken "${out%%|*}" "${out#*|}"

# --- 4. The plan of the walk along the chain, segment by segment. ---------
# jq lays the walk out line by line, with what does not hold by its
# structure alone (B); the shell below computes the hashes in that order.
#   S|first|prev_hash            a segment starts from the hash before it
#   E|seq|prev_hash|hash|bytes   one of the record's entries, its canonical
#                                bytes written as \xHH escapes
#   O|seq|digest                 another entry, by its content digest
#   C|seq|hash                   the segment ends in its checkpoint's hash
#   K|seq|hash|at|signature|key|next_key|next_signature  the checkpoint
#   B|seq|reason                 the entry seq does not hold
#   R|entries|first|last|linked|checkpoints|signed_at    the report
jq -r '
	def hx: "0123456789abcdef" as $d | $d[(. / 16 | floor):(. / 16 | floor) + 1] + $d[(. % 16):(. % 16) + 1];
	def uvarint: if . < 128 then [.] else [(. % 128) + 128] + (. / 128 | floor | uvarint) end;
	def utf8: [explode[] |
		if . < 128 then .
		elif . < 2048 then (192 + (. / 64 | floor)), (128 + . % 64)
		elif . < 65536 then (224 + (. / 4096 | floor)), (128 + (. / 64 | floor) % 64), (128 + . % 64)
		else (240 + (. / 262144 | floor)), (128 + (. / 4096 | floor) % 64), (128 + (. / 64 | floor) % 64), (128 + . % 64) end];
	def field: utf8 | (length | uvarint) + .;
	def canontime: .[0:19] + "." + ((.[20:-1] + "000000")[0:6]) + "Z";
	def canonical: (.seq | uvarint) + (.at | canontime | field) +
		([.actor_id, .actor_name, .session_id, .address, .command, .entity, .entity_id, .field, .old, .new, .reason, .client_id] |
		 map(. // "" | field) | add);
	def esc: map("\\x" + hx) | add;
	def ishash: type == "string" and test("^[0-9a-f]{64}$");
	def orbad: if ishash then . else "-" end;
	# The walk of one segment from its first entry to its checkpoint:
	# entries[.next:] and the segment s others, one sequence at a time.
	def link($es; $s):
		($s.checkpoint.seq) as $cp | ($s.others) as $os |
		if ($s.prev_hash | ishash | not) then {lines: ["B|\($s.first)|the hash before its segment is not a SHA-256 hash"], fail: true}
		elif $s.first == 1 and $s.prev_hash != ("0" * 64) then {lines: ["B|1|the hash before the first entry of the chain is not the chain'"'"'s start"], fail: true}
		else
			reduce range($s.first; [$cp + 1, $s.first + ($es | length) - .next + ($os | length) + 1] | min) as $seq
				(. + {lines: ["S|\($s.first)|\($s.prev_hash)"], other: 0, seq: $s.first};
				if .fail then .
				elif .next < ($es | length) and $es[.next].seq == $seq then
					$es[.next] as $e | .lines += ["E|\($seq)|\($e.prev_hash | orbad)|\($e.hash | orbad)|\($e | canonical | esc)"] | .next += 1 | .seq += 1
				elif .other < ($os | length) and $os[.other].seq == $seq then
					if ($os[.other].digest | ishash) then .lines += ["O|\($seq)|\($os[.other].digest)"] | .other += 1 | .seq += 1
					else .lines += ["B|\($seq)|its digest is not a SHA-256 hash"] | .fail = true end
				else .lines += ["B|\($seq)|the bundle lacks it, yet its segment runs through it: an entry was deleted"] | .fail = true end)
			| if .fail then .
			elif .other < ($os | length) then .lines += ["B|\($os[.other].seq)|it lies outside its segment, which ends at the checkpoint at entry \($cp)"] | .fail = true
			elif .seq == $s.first then .lines += ["B|\($s.first)|its segment is empty: the checkpoint that closes it comes before it"] | .fail = true
			else .lines += ["C|\($cp)|\($s.checkpoint.hash | orbad)",
				"K|\($cp)|\($s.checkpoint.hash)|\($s.checkpoint.at | canontime)|\($s.checkpoint.signature)|\($s.checkpoint.key // "")|\($s.checkpoint.next_key // "")|\($s.checkpoint.next_signature // "")"]
				| .linked += .seq - $s.first
			end
		end;
	.entries as $es |
	(reduce .segments[] as $s ({next: 0, after: 0, lines: [], fail: false, linked: 0};
		if .fail then .
		elif $s.first <= .after then .lines += ["B|\($s.first)|its segment overlaps the one before it"] | .fail = true
		elif .next < ($es | length) and $es[.next].seq < $s.first then
			.lines += ["B|\($es[.next].seq)|no segment of the bundle links it to a signed checkpoint"] | .fail = true
		else (.lines as $before | .lines = [] | link($es; $s) | .lines = $before + .lines) | .after = $s.checkpoint.seq end)) as $walk |
	$walk.lines[],
	if $walk.fail then empty
	elif $walk.next < ($es | length) then "B|\($es[$walk.next].seq)|no segment of the bundle links it to a signed checkpoint"
	else "R|\($es | length)|\($es[0].seq)|\($es[-1].seq)|\($walk.linked)|\(.segments | length)|\(.segments[-1].checkpoint.at | canontime)" end
' "$file" >"$tmp/plan"

# --- 5. The walk: the hashes and the signatures. ---------------------------
genesis=0000000000000000000000000000000000000000000000000000000000000000
# sha256 of the bytes written as \xHH escapes in $1, into $REPLY.
sha() { REPLY=$(printf '%b' "$1" | sha256sum); REPLY=${REPLY%% *}; }
# The escapes of a hexadecimal string $1, into $REPLY.
unhex() { local i; REPLY=; for ((i = 0; i < ${#1}; i += 2)); do REPLY+="\\x${1:i:2}"; done; }
# link: the hash that follows $1 for an entry of digest $2.
link() { unhex "$1$2"; sha "$REPLY"; }
# Bytes in base64 into a file, and their number.
b64len() { local s=$1 n=$((${#1} / 4 * 3)); case $s in *==) n=$((n - 2)) ;; *=) n=$((n - 1)) ;; esac; echo "$n"; }
unb64() { printf '%s' "$1" | openssl base64 -d -A >"$2"; }
# ed25519 KEYDER_BASE64 MESSAGE_FILE SIGNATURE_BASE64: does the key sign it?
ed25519() {
	printf -- '-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n' "$1" >"$tmp/signer.pem"
	unb64 "$3" "$tmp/sig.bin"
	openssl pkeyutl -verify -pubin -inkey "$tmp/signer.pem" -rawin -in "$2" -sigfile "$tmp/sig.bin" >/dev/null 2>&1
}

h=$genesis
while IFS='|' read -r kind a b c d e f g; do
	case $kind in
	B) broken "$a" "$b${c:+|$c}" ;;
	S) h=$b ;;
	E)
		[ "$b" = "$h" ] || broken "$a" "its previous hash is not the hash of the chain before it: an entry was inserted, deleted or moved"
		sha "$d"
		link "$h" "$REPLY"
		h=$REPLY
		[ "$c" = "$h" ] || broken "$a" "its content does not match its hash: the entry was changed"
		;;
	O) link "$h" "$b"; h=$REPLY ;;
	C) [ "$b" = "$h" ] || broken "$a" "the chain of the bundle does not end in the hash the signed checkpoint holds: an entry of its segment was changed, added or removed" ;;
	K)
		sig=$d key=$e next=$f nextsig=$g
		if [ -n "$next" ]; then
			printf 'galenix audit key handover v1\n%s\n%s\n%s\n%s\n%s\n' "$a" "$b" "$c" "$key" "$next" >"$tmp/msg"
			if [ "$(b64len "$key")" != 32 ] || [ "$(b64len "$next")" != 32 ] ||
				[ "$(b64len "$sig")" != 64 ] || [ "$(b64len "$nextsig")" != 64 ] ||
				! ed25519 "MCowBQYDK2VwAyEA$key" "$tmp/msg" "$sig" || ! ed25519 "MCowBQYDK2VwAyEA$next" "$tmp/msg" "$nextsig"; then
				broken "$a" "the key handover at this entry is not signed by both of its keys"
			fi
			[ "$keyder" = "MCowBQYDK2VwAyEA$key" ] || [ "$keyder" = "MCowBQYDK2VwAyEA$next" ] ||
				broken "$a" "the key handover at this entry names neither this key nor hands over to it"
		else
			printf 'galenix audit checkpoint v1\n%s\n%s\n%s\n' "$a" "$b" "$c" >"$tmp/msg"
			if [ "$(b64len "$sig")" != 64 ] || ! ed25519 "$keyder" "$tmp/msg" "$sig"; then
				broken "$a" "the checkpoint at this entry does not carry the site's signature"
			fi
		fi
		;;
	R) report=("$a" "$b" "$c" "$d" "$e" "$f") ;;
	*) echo "$0: unexpected plan line: $kind" >&2; exit 2 ;;
	esac
done <"$tmp/plan"
[ -n "${report+x}" ] || { echo "$0: the walk ended without a report" >&2; exit 2; }

# --- 6. The key: the one the site publishes? ------------------------------
if [ -n "$pubfile" ]; then
	want=$(openssl pkey -pubin -in "$pubfile" -outform DER 2>/dev/null | sha256sum) || { echo "$0: cannot read $pubfile" >&2; exit 2; }
	fingerprint=${want%% *}
fi
if [ -n "$fingerprint" ] && [ "$(printf '%s' "$fingerprint" | tr -d ' :' | tr 'A-F' 'a-f')" != "$keyfp" ]; then
	echo "FAILED: the bundle is signed with another key than ${pubfile:-$fingerprint} (its key's SHA-256 is $keyfp)"
	exit 1
fi
entity=$(jq -r '.entity + " " + .entity_id' "$file")
echo "OK: the ${report[0]} audit entries of $entity hold (entries ${report[1]} to ${report[2]})"
echo "    linked through ${report[3]} entries of the chain to ${report[4]} signed checkpoints, the last signed ${report[5]}"
echo "    signed with the key of SHA-256 $keyfp"
[ -n "$fingerprint" ] || echo "    compare it with the site's published key, or give that key with --public-key or --fingerprint"
