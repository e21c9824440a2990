#!/usr/bin/env python3
"""Builds GalenixSans-Regular.ttf and GalenixSans-Bold.ttf, the fonts
galenix embeds in its PDFs, from Debian's packages:

  fonts-dejavu-core      DejaVu Sans, DejaVu Sans Bold (Latin, Latin
                         Extended, Greek, Cyrillic, symbols)
  fonts-droid-fallback   Droid Sans Fallback Full (CJK), Apache-2.0
  python3-fonttools      the subsetter and merger (fontTools 4.38)

Each output is DejaVu Sans (whole, its hinting and OpenType layout tables
dropped: the PDF writer uses neither) merged with the glyphs of Droid Sans
Fallback for the characters DejaVu lacks among a documented CJK set:
every character of GB 2312 (the 6,763 hanzi of levels 1 and 2 and its
symbols), of JIS X 0208 (the 6,355 kanji of levels 1 and 2, kana and
symbols) and of KS X 1001 (its 4,888 hanja), plus the CJK punctuation
block, kana and the full- and half-width forms, as far as Droid Sans
Fallback has them. It has no Hangul: Korean script is not covered (to add
it, merge a free Hangul font the same way, e.g. Nanum Gothic, OFL). The sets are
read from Python's own codecs (gb2312, euc_jp, euc_kr), so the script is
reproducible without a list to download. Droid's em (256 units) is scaled
to DejaVu's (2048) before the merge.

The family is renamed "Galenix Sans": the Bitstream Vera licence, which
DejaVu inherits, asks a modified font to drop the names "Bitstream" and
"Vera". Both licences are in this folder.

Run: python3 build.py   (Debian bookworm's packages: fonts-dejavu-core
2.37-6, fonts-droid-fallback 1:6.0.1r16-1.1, python3-fonttools 4.38.0);
the same packages give the same bytes (check with sha256sum, SHA256SUMS).
"""
import os
from fontTools.ttLib import TTFont, newTable
from fontTools import subset
from fontTools.merge import Merger
from fontTools.ttLib.scaleUpem import scale_upem

DEJAVU = "/usr/share/fonts/truetype/dejavu/"
DROID = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"
HERE = os.path.dirname(os.path.abspath(__file__))
DROP = ["GSUB", "GPOS", "GDEF", "kern", "MATH", "FFTM", "vhea", "vmtx", "fpgm", "prep", "cvt ", "gasp", "hdmx", "LTSH", "VDMX"]


def cjk_set():
    """The characters of GB 2312, JIS X 0208 and KS X 1001, from the
    two-byte EUC ranges of Python's codecs, and the CJK blocks of
    punctuation and forms."""
    chars = set()
    for codec in ("gb2312", "euc_jp", "euc_kr"):
        for hi in range(0xA1, 0xFF):
            for lo in range(0xA1, 0xFF):
                try:
                    s = bytes([hi, lo]).decode(codec)
                except UnicodeDecodeError:
                    continue
                chars.update(ord(c) for c in s)
    chars.update(range(0x3000, 0x3040))  # CJK symbols and punctuation
    chars.update(range(0x3040, 0x3100))  # hiragana, katakana
    chars.update(range(0xFF00, 0xFFF0))  # half- and full-width forms
    return chars


def strip(font):
    for t in DROP:
        if t in font:
            del font[t]
    # glyph names are not needed; a version 3 post table keeps the file small
    font["post"].formatType = 3.0
    return font


def opts():
    o = subset.Options()
    o.hinting = False
    o.layout_features = []
    o.notdef_outline = True
    o.name_IDs = ["*"]
    o.name_languages = ["*"]
    o.glyph_names = False
    o.drop_tables += DROP
    return o


def build(style, dejavu_file):
    base = TTFont(DEJAVU + dejavu_file, recalcTimestamp=False)
    have = set(base.getBestCmap())
    sub = subset.Subsetter(opts())
    sub.populate(unicodes=have)
    sub.subset(base)
    strip(base)

    cjk = TTFont(DROID, recalcTimestamp=False)
    scale_upem(cjk, base["head"].unitsPerEm)
    s2 = subset.Subsetter(opts())
    s2.populate(unicodes=sorted(cjk_set() - have))
    s2.subset(cjk)
    strip(cjk)

    a, b = os.path.join(HERE, ".a.ttf"), os.path.join(HERE, ".b.ttf")
    base.save(a)
    cjk.save(b)
    merged = Merger().merge([a, b])
    os.remove(a)
    os.remove(b)
    strip(merged)

    name = merged["name"]
    full = "Galenix Sans" + ("" if style == "Regular" else " " + style)
    ps = "GalenixSans-" + style
    for rec in list(name.names):
        if rec.nameID in (1, 16):
            rec.string = "Galenix Sans"
        elif rec.nameID in (2, 17):
            rec.string = style
        elif rec.nameID == 3:
            rec.string = ps + " (DejaVu Sans 2.37 + Droid Sans Fallback)"
        elif rec.nameID == 4:
            rec.string = full
        elif rec.nameID == 6:
            rec.string = ps
    # DejaVu's dates, not the build's: the same packages give the same bytes
    merged["head"].created = base["head"].created
    merged["head"].modified = base["head"].modified
    merged.recalcTimestamp = False
    out = os.path.join(HERE, ps + ".ttf")
    merged.save(out)
    print(out, os.path.getsize(out), "bytes,", merged["maxp"].numGlyphs, "glyphs")


build("Regular", "DejaVuSans.ttf")
build("Bold", "DejaVuSans-Bold.ttf")
