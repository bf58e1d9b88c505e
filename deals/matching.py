"""Decide whether two end-customer names denote the same customer.

Pure domain logic: plain functions of plain values, no Flask, no database.

Overview
--------
1. If both sides carry a unified social credit code (统一社会信用代码, USCC),
   the codes decide: equal -> same, different -> different.
2. Otherwise both names are normalised (:func:`normalize_customer_name`) into
   a *core* plus the evidence that was set aside on the way:

   * Unicode NFKC (full-width letters, digits and brackets -> half-width),
     traditional -> simplified Chinese (OpenCC ``t2s``), lower case;
   * bracketed parts: empty ones, legal forms (``(集团)``, ``(有限合伙)``)
     and former-name notes are dropped, region words (``(南京)``,
     ``(Hong Kong)``) are recorded as regions, anything else stays in the
     name;
   * leading region words (``浙江省杭州市``, ``深圳市南山区``, ``Shenzhen``)
     are recorded as regions and removed;
   * a trailing branch unit (``南山分局``, ``北京分公司``, ``海淀支行``) is
     recorded as the branch and kept in the core;
   * legal-form words (有限公司, 股份有限公司, 集团, Co., Ltd., Limited, Inc.
     ...) are removed;
   * region words *inside* the name (``中国联合网络通信集团河南有限公司``)
     stay in the core (they name a different legal entity) and are also
     recorded as ``inner_regions``;
   * ordinals are canonicalised (``第1中学`` = ``第一中学`` = ``一中``) and
     recorded;
   * punctuation and whitespace are removed.

3. The two normalised names are then compared (:func:`compare_customer_names`):
   regions must be compatible, and the cores must be equal, apart from one
   narrow typo tolerance for long Latin-script names (see
   :func:`compare_customer_names` for why).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import opencc
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from deals import regions as _regions

__all__ = [
    "LATIN_FUZZY_MIN_LENGTH",
    "MatchVerdict",
    "NormalizedName",
    "candidate_ngrams",
    "compare_customer_names",
    "name_province",
    "name_search_key",
    "normalize_customer_name",
]

# The converter is expensive to build and safe to share.
_T2S = opencc.OpenCC("t2s")

#: Latin-only cores at least this long tolerate a single letter edit.
LATIN_FUZZY_MIN_LENGTH = 20


# ---------------------------------------------------------------------------
# Region lookup tables (built once from deals.regions)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Region:
    canonical: str
    # Province first, ending with the region itself: ("浙江", "杭州").
    # A district whose city is unknown has a one-element path that does not
    # start with a province; such a region is "unmapped".
    path: tuple[str, ...]
    # True for the bare short form of a name in AMBIGUOUS_SHORT_NAMES.
    ambiguous: bool = False


def _build_cjk_aliases() -> dict[str, _Region]:
    table: dict[str, _Region] = {}

    def add(alias: str, region: _Region) -> None:
        # First definition wins; the data test checks there are no clashes.
        table.setdefault(alias, region)

    for prov, full_forms in _regions.PROVINCES.items():
        region = _Region(prov, (prov,))
        add(prov, region)
        for alias in full_forms:
            add(alias, region)
    for prov, names in _regions.PREFECTURES.items():
        for name in names:
            region = _Region(name, (prov, name))
            add(name + "市", region)
            for alias in _regions.PREFECTURE_FULL_NAMES.get(name, ()):
                add(alias, region)
            ambiguous = name in _regions.AMBIGUOUS_SHORT_NAMES
            add(name, _Region(name, (prov, name), ambiguous))
    for name, parents in _regions.COUNTY_LEVEL_CITIES.items():
        region = _Region(name, (*parents, name))
        add(name + "市", region)
        ambiguous = name in _regions.AMBIGUOUS_SHORT_NAMES
        add(name, _Region(name, (*parents, name), ambiguous))
    return table


_CJK_REGIONS = _build_cjk_aliases()
_CJK_MAX_ALIAS = max(map(len, _CJK_REGIONS))

_PATH_OF: dict[str, tuple[str, ...]] = {
    r.canonical: r.path for r in _CJK_REGIONS.values() if r.path[-1] == r.canonical
}


def _build_latin_regions() -> tuple[dict[str, _Region], re.Pattern[str]]:
    table: dict[str, _Region] = {}
    for canonical, aliases in _regions.ENGLISH_NAMES.items():
        path = _PATH_OF.get(canonical, (canonical,))
        for alias in aliases:
            table.setdefault(alias.replace(" ", ""), _Region(canonical, path))
    words = sorted(
        {a for aliases in _regions.ENGLISH_NAMES.values() for a in aliases},
        key=len,
        reverse=True,
    )
    alternation = "|".join(r"\s*".join(map(re.escape, w.split())) for w in words)
    suffixes = "|".join(r"\s+".join(s.split()) for s in _regions.ENGLISH_REGION_SUFFIXES)
    pattern = re.compile(rf"(?<![a-z0-9])(?P<name>{alternation})(?:\s+(?:{suffixes}))?(?![a-z0-9])")
    return table, pattern


_LATIN_REGIONS, _LATIN_REGION_RE = _build_latin_regions()

# Generic district / county: two or three characters plus 区/新区/县, accepted
# right after a known region (深圳市南山区) or at the very start (海淀区...).
# Too many to list, and the suffix makes them unambiguous enough.
_DISTRICT_RE = re.compile(r"([\u4e00-\u9fff]{2,3}?)(新区|区|县)")

# Administrative suffixes a full region name may end with.  When the suffix
# is followed by 立 it belongs to the institution (福建省立医院 = "the
# provincial hospital of Fujian", not "福建省" + "立医院").
_ADMIN_SUFFIX_CHARS = "省市区县州"


@dataclass(frozen=True)
class _Mention:
    canonical: str
    path: tuple[str, ...]


def _suffix_backoff(alias: str, following: str) -> bool:
    """True if ``alias``'s suffix really belongs to the next word."""
    if alias[-1] not in _ADMIN_SUFFIX_CHARS or len(alias) < 2:
        return False
    if following == "立":  # 省立 / 市立 / 区立 / 县立; 兰州立宇, 杭州立信 are 兰州 + 立宇
        return alias[-1] in "省市区县"
    # 上海市场… is 上海 + 市场…, not 上海市 + 场….
    return alias[-1] == "市" and following == "场"


def _match_cjk_region(
    s: str, pos: int, allow_ambiguous: bool, prev: _Mention | None
) -> tuple[int, _Region] | None:
    """Longest region alias starting at ``s[pos]``, or None."""
    for length in range(min(_CJK_MAX_ALIAS, len(s) - pos), 0, -1):
        alias = s[pos : pos + length]
        region = _CJK_REGIONS.get(alias)
        if region is None:
            continue
        if region.ambiguous and not allow_ambiguous:
            # 广东中山… : right after its own province the bare name is safe.
            if not (prev and prev.path == (region.path[0],)):
                continue
        if _suffix_backoff(alias, s[pos + length : pos + length + 1]):
            continue
        return length, region
    return None


def _match_district(s: str, prev: _Mention | None) -> tuple[int, _Mention] | None:
    m = _DISTRICT_RE.match(s)
    if not m:
        return None
    name = m.group(1)
    if name in _regions.NON_DISTRICT_ZONE_WORDS or name[-1] in "园港特":
        return None
    if any(name.endswith(w) for w in _regions.NON_DISTRICT_ZONE_WORDS):
        return None
    if s[m.end() : m.end() + 1] == "立":
        return None
    path = (*prev.path, name) if prev else (name,)
    return m.end(), _Mention(name, path)


def _match_region_prefix(
    s: str, prev: _Mention | None, allow_ambiguous: bool
) -> tuple[int, _Mention] | None:
    """Match one region word at the start of ``s`` (no leading space)."""
    if not s:
        return None
    if "a" <= s[0] <= "z":
        m = _LATIN_REGION_RE.match(s)
        if not m:
            return None
        region = _LATIN_REGIONS[re.sub(r"\s+", "", m.group("name"))]
        return m.end(), _Mention(region.canonical, region.path)
    hit = _match_cjk_region(s, 0, allow_ambiguous, prev)
    if hit is not None:
        length, region = hit
        return length, _Mention(region.canonical, region.path)
    return _match_district(s, prev)


def _take_leading_regions(s: str, allow_ambiguous: bool = False) -> tuple[str, list[_Mention]]:
    """Strip the chain of region words at the start of ``s``."""
    mentions: list[_Mention] = []
    while True:
        s = s.lstrip()
        hit = _match_region_prefix(s, mentions[-1] if mentions else None, allow_ambiguous)
        if hit is None:
            return s, mentions
        length, mention = hit
        mentions.append(mention)
        s = s[length:]


def _scan_inner_regions(s: str) -> tuple[str, list[str]]:
    """Find region words inside ``s``; canonicalise their full forms.

    Ambiguous short names are not reported here (中山大学, 阿里巴巴).
    Returns the rewritten text (河南省 -> 河南) and the canonical names in
    order of appearance.
    """
    found: list[tuple[int, str]] = []
    out: list[str] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if "\u4e00" <= ch <= "\u9fff":
            hit = _match_cjk_region(s, i, allow_ambiguous=False, prev=None)
            if hit is not None:
                length, region = hit
                found.append((i, region.canonical))
                out.append(region.canonical)
                i += length
                continue
        out.append(ch)
        i += 1
    text = "".join(out)
    if re.search(r"[a-z]", text):
        found.extend(
            (m.start(), _LATIN_REGIONS[re.sub(r"\s+", "", m.group("name"))].canonical)
            for m in _LATIN_REGION_RE.finditer(text)
        )
        found.sort()
    return text, [name for _, name in found]


# ---------------------------------------------------------------------------
# Legal forms, branches, brackets
# ---------------------------------------------------------------------------

# Removed wherever they occur: they never distinguish two customers.
_CJK_LEGAL_ANYWHERE = ("股份有限公司", "有限责任公司", "有限公司", "总公司", "集团")
# 公司 is removed too, except as part of 分公司 (a branch marker).
_CJK_COMPANY_RE = re.compile(r"(?<!分)公司")
# Removed only at the end (repeatedly): shorter words that could be part of a
# name in the middle.
_CJK_LEGAL_SUFFIXES = tuple(
    sorted(
        (
            "特殊普通合伙",
            "普通合伙",
            "有限合伙",
            "合伙企业",
            "个人独资企业",
            "独资企业",
            "有限责任",
            "股份",
            "有限",
            "总部",
            "总行",
        ),
        key=len,
        reverse=True,
    )
)
_LATIN_LEGAL_TOKENS = frozenset(
    {
        "co",
        "coltd",
        "company",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "llc",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "pte",
        "pty",
        "llp",
        "lp",
        "kk",
        "group",
    }
)
_LATIN_TRAILING_TOKEN_RE = re.compile(r"(?<![a-z0-9])([a-z]+)\s*$")
# Legal forms not at the end ("Siemens Ltd., China") stay, in one spelling.
_LATIN_LEGAL_CANONICAL = {
    "limited": "ltd",
    "company": "co",
    "corporation": "corp",
    "incorporated": "inc",
}

# Plural / abbreviation folding for Latin words, so that "Technologies" and
# "Technology", "Intl" and "International" give the same core.
_LATIN_WORD_FOLD = {
    "technologies": "technology",
    "systems": "system",
    "solutions": "solution",
    "services": "service",
    "industries": "industry",
    "products": "product",
    "networks": "network",
    "communications": "communication",
    "electronics": "electronic",
    "holdings": "holding",
    "intl": "international",
    "mfg": "manufacturing",
    "centre": "center",
    **_LATIN_LEGAL_CANONICAL,
}

# Bracket contents that carry no identity (enterprise-type notes, "in
# preparation").
_BRACKET_DROP_WORDS = frozenset(
    {
        "自然人独资",
        "自然人投资或控股",
        "法人独资",
        "非自然人投资或控股的法人独资",
        "外商独资",
        "外商投资企业法人独资",
        "台港澳法人独资",
        "中外合资",
        "中外合作",
        "筹",
        "筹备",
        "筹建",
    }
)
_FORMER_NAME_RE = re.compile(r"^(原|曾用名|formerly|former)")

# A trailing branch unit makes a different legal entity (or at least a
# different customer) than its parent.
_CJK_BRANCH_MARKERS = tuple(
    sorted(
        (
            "分公司",
            "分局",
            "分行",
            "支行",
            "分理处",
            "分院",
            "办事处",
            "代表处",
            "营业部",
            "营业所",
            "分所",
            "分中心",
            "分部",
            "分店",
            "分厂",
            "分校",
            "分社",
            "支局",
            "分会",
            "分馆",
            "分站",
            "分支机构",
        ),
        key=len,
        reverse=True,
    )
)
_LATIN_BRANCH_RE = re.compile(
    r"(?<![a-z0-9])(branch(?:\s+office)?|representative\s+office|rep\s+office"
    r"|liaison\s+office)\s*$"
)
# Where a branch tail starts: right after the parent's legal form or
# organisation noun (深圳市公安局|南山分局, 工商银行股份有限公司|北京海淀支行).
_BRANCH_BOUNDARY_WORDS = (
    "公司",
    "集团",
    "银行",
    "局",
    "院",
    "厅",
    "委员会",
    "中心",
    "大学",
    "学校",
    "厂",
    "社",
    "所",
    "协会",
    "商会",
)
_LATIN_BOUNDARY_RE = re.compile(
    r"(?<![a-z0-9])(?:" + "|".join(sorted(_LATIN_LEGAL_TOKENS)) + r"|bank)(?![a-z0-9])"
)


def _split_branch(s: str) -> tuple[str, str]:
    """Split ``s`` into (parent, branch tail); tail is '' if no branch."""
    s = s.rstrip()
    start = -1
    for marker in _CJK_BRANCH_MARKERS:
        if s.endswith(marker):
            start = len(s) - len(marker)
            break
    if start < 0:
        m = _LATIN_BRANCH_RE.search(s)
        if m is None:
            return s, ""
        start = m.start()
    prefix = s[:start]
    cut = 0
    for word in _BRANCH_BOUNDARY_WORDS:
        idx = prefix.rfind(word)
        if idx >= 0:
            cut = max(cut, idx + len(word))
    for m in _LATIN_BOUNDARY_RE.finditer(prefix):
        cut = max(cut, m.end())
    if cut == 0:
        # No parent noun to anchor on (中国联通河南省分公司): the tail is the
        # marker plus a region word right before it, if any.
        cut = start - _trailing_region_length(prefix)
    return s[:cut], s[cut:]


def _trailing_region_length(s: str) -> int:
    """Length of a (non-ambiguous) region word that ends ``s``, else 0."""
    stripped = s.rstrip()
    for length in range(min(_CJK_MAX_ALIAS, len(stripped)), 0, -1):
        region = _CJK_REGIONS.get(stripped[-length:])
        if region is not None and not region.ambiguous:
            return length + len(s) - len(stripped)
    m = _LATIN_TRAILING_REGION_RE.search(s)
    return len(s) - m.start() if m else 0


_LATIN_TRAILING_REGION_RE = re.compile(rf"(?:{_LATIN_REGION_RE.pattern})\s*$")


def _strip_legal_forms(s: str) -> str:
    for word in _CJK_LEGAL_ANYWHERE:
        s = s.replace(word, " ")
    s = _CJK_COMPANY_RE.sub(" ", s)
    while True:
        s = s.rstrip()
        for suffix in _CJK_LEGAL_SUFFIXES:
            if s.endswith(suffix):
                s = s[: -len(suffix)]
                break
        else:
            m = _LATIN_TRAILING_TOKEN_RE.search(s)
            if m and m.group(1) in _LATIN_LEGAL_TOKENS:
                s = s[: m.start()]
                continue
            return s


def _bracket_content_is_noise(content: str) -> bool:
    compact = content.replace(" ", "")
    if compact in _BRACKET_DROP_WORDS or _FORMER_NAME_RE.match(compact):
        return True
    # (集团), (股份), (有限公司), (Group), (Holdings Limited)...: nothing left
    # once legal forms are gone.
    return not _strip_legal_forms(content).strip()


def _parse_region_list(content: str) -> list[_Mention] | None:
    """Region mentions if ``content`` consists of region words only.

    A leading 中国/China is allowed ((中国·深圳), (China Shenzhen)): it adds
    nothing to the region that follows.  (中国) on its own is not a region
    and stays in the name (西门子(中国) is the China subsidiary).
    """
    content = re.sub(r"^\s*(?:中国|china)(?=\s*\S)", "", content)
    rest, mentions = _take_leading_regions(content, allow_ambiguous=True)
    return mentions if mentions and not rest.strip() else None


# ---------------------------------------------------------------------------
# Ordinals
# ---------------------------------------------------------------------------

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUM_CHARS = "".join(_CN_DIGITS) + "".join(_CN_UNITS)
_DIGIT_CHARS = "零一二三四五六七八九"


def _cn_to_int(text: str) -> int | None:
    """Parse a Chinese numeral (十一, 一百零一, 一〇一); None if malformed."""
    if not text:
        return None
    if not any(c in _CN_UNITS for c in text):
        # Digit-by-digit form: 一〇一.
        value = 0
        for c in text:
            value = value * 10 + _CN_DIGITS[c]
        return value
    total, digit = 0, None
    for c in text:
        if c in _CN_DIGITS:
            digit = _CN_DIGITS[c]
        else:
            unit = _CN_UNITS[c]
            total += (1 if digit is None else digit) * unit
            digit = None
    return total + (digit or 0)


def _int_to_cn(n: int) -> str:
    """Canonical Chinese numeral for 0..9999 (11 -> 十一, 101 -> 一百零一)."""
    if n < 10:
        return _DIGIT_CHARS[n]
    if n >= 10000:
        return str(n)
    parts: list[str] = []
    zero_pending = False
    for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, unit_value)
        if d:
            if zero_pending:
                parts.append("零")
                zero_pending = False
            # 十一, not 一十一, when ten is the leading unit.
            if not (unit == "十" and d == 1 and not parts):
                parts.append(_DIGIT_CHARS[d])
            parts.append(unit)
        elif parts:
            zero_pending = True
    return "".join(parts)


def _canonical_numeral(text: str) -> str:
    value = int(text) if text.isdigit() else _cn_to_int(text)
    return text if value is None else _int_to_cn(value)


_ORDINAL_ARABIC_RE = re.compile(r"第(\d+)|(\d+)(?=[中小](?:$|分|校))")
_ORDINAL_CN_RE = re.compile(rf"第([{_CN_NUM_CHARS}]+)")
# 第一中学 -> 一中, 第二小学 -> 二小, 第三高级中学 -> 三高: the abbreviation
# everybody uses, so both spellings get the same core.
_SCHOOL_RE = re.compile(rf"第([{_CN_NUM_CHARS}]+)(中学|小学|高级中学)")
_SCHOOL_ABBR = {"中学": "中", "小学": "小", "高级中学": "高"}
_SCHOOL_ABBR_RE = re.compile(rf"([{_CN_NUM_CHARS}]+)(?=[中小高](?:$|分|校))")
_ORDINAL_FIND_RE = re.compile(rf"第([{_CN_NUM_CHARS}]+)|([{_CN_NUM_CHARS}]+)[中小高](?=$|分|校)")


def _canonicalise_ordinals(core: str) -> str:
    # 中学校/小学校 is the formal spelling of 中学/小学 (重庆市第八中学校).
    core = core.replace("中学校", "中学").replace("小学校", "小学")
    core = _ORDINAL_ARABIC_RE.sub(
        lambda m: "第" + _int_to_cn(int(m.group(1))) if m.group(1) else _int_to_cn(int(m.group(2))),
        core,
    )
    core = _ORDINAL_CN_RE.sub(lambda m: "第" + _canonical_numeral(m.group(1)), core)
    core = _SCHOOL_RE.sub(lambda m: m.group(1) + _SCHOOL_ABBR[m.group(2)], core)
    # 一〇一中 / 一十一中 -> 一百零一中 / 十一中
    return _SCHOOL_ABBR_RE.sub(lambda m: _canonical_numeral(m.group(1)), core)


def _find_ordinals(core: str) -> tuple[str, ...]:
    return tuple(
        _canonical_numeral(m.group(1) or m.group(2)) for m in _ORDINAL_FIND_RE.finditer(core)
    )


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------

# NFKC already maps （）［］｛｝ to ()[]{}; the rest are CJK brackets.
_BRACKETS = str.maketrans(
    {"[": "(", "]": ")", "{": "(", "}": ")", "【": "(", "】": ")", "〔": "(", "〕": ")"}
    | {"〖": "(", "〗": ")", "﹝": "(", "﹞": ")"}
)
_INNERMOST_BRACKET_RE = re.compile(r"\(([^()]*)\)")
# Dots and apostrophes inside Latin words vanish (Co.,Ltd -> co ltd,
# S.A. -> sa, Int'l -> intl); every other non-word character is a separator.
_LATIN_JOINER_RE = re.compile(r"(?<=[a-z0-9])[.'’]")
_SEPARATOR_RE = re.compile(r"[^\w()]+|_")
_LATIN_WORD_RE = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class NormalizedName:
    """A customer name reduced to what identifies the customer.

    ``core`` is what fuzzy scoring and the database search key use; the other
    fields are the evidence that was set aside while building it.
    """

    original: str
    core: str
    regions: tuple[str, ...] = ()
    ordinals: tuple[str, ...] = ()
    # Path (province first) of each entry in ``regions``, e.g.
    # (("浙江",), ("浙江", "杭州")) for 浙江省杭州市.
    region_paths: tuple[tuple[str, ...], ...] = ()
    # Regions found inside the core (not as prefix or in brackets); they stay
    # in the core.
    inner_regions: tuple[str, ...] = ()
    # Trailing branch unit such as "南山分局" ('' if none); it stays in the
    # core.
    branch: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable view."""
        return {
            "original": self.original,
            "core": self.core,
            "regions": list(self.regions),
            "ordinals": list(self.ordinals),
            "inner_regions": list(self.inner_regions),
            "branch": self.branch,
        }


def _fold(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    s = _T2S.convert(s)
    s = s.lower().translate(_BRACKETS).replace("&", " and ")
    s = _LATIN_JOINER_RE.sub("", s)
    return _SEPARATOR_RE.sub(" ", s)


@lru_cache(maxsize=65536)
def normalize_customer_name(name: str) -> NormalizedName:
    """Normalise a customer name (Chinese or English) for matching.

    Steps, in order: NFKC; traditional -> simplified (OpenCC t2s); lower
    case; punctuation folded; bracket contents classified (empty, legal form
    or former-name note -> dropped; region words -> ``regions``; anything
    else kept); the chain of leading region words (浙江省杭州市, 深圳市南山区,
    Shenzhen) moved to ``regions`` in canonical short form (浙江省 -> 浙江);
    a trailing branch unit recorded in ``branch``; legal forms removed
    (有限公司, 集团, Co., Ltd. ...); inner region words canonicalised and
    recorded; ordinals canonicalised (第1中学 -> 一中); whitespace removed.

    If nothing but region words is left (``北京市``), the core is the
    canonical region names, so that such a name still has a search key.

    The result is cached: the function is pure and names repeat a lot.
    """
    original = name
    s = _fold(name or "")

    # Brackets, innermost first.
    bracket_mentions: list[_Mention] = []

    def replace_bracket(m: re.Match[str]) -> str:
        content = m.group(1).strip()
        if not content or _bracket_content_is_noise(content):
            return " "
        mentions = _parse_region_list(content)
        if mentions is not None:
            bracket_mentions.extend(mentions)
            return " "
        return f" {content} "

    while True:
        replaced = _INNERMOST_BRACKET_RE.sub(replace_bracket, s)
        if replaced == s:
            break
        s = replaced
    s = s.replace("(", " ").replace(")", " ")
    s = re.sub(r"^\s*the\s+", "", s)

    s, leading = _take_leading_regions(s)
    head, tail = _split_branch(s)
    head = _strip_legal_forms(head)
    body = f"{head} {tail}"
    body = _LATIN_WORD_RE.sub(lambda m: _LATIN_WORD_FOLD.get(m.group(), m.group()), body)
    body, inner = _scan_inner_regions(body)
    core = _canonicalise_ordinals(re.sub(r"\s+", "", body))
    branch = _canonicalise_ordinals(re.sub(r"\s+", "", _scan_inner_regions(tail)[0]))

    mentions: list[_Mention] = []
    for mention in (*leading, *bracket_mentions):
        if mention not in mentions:
            mentions.append(mention)
    if not core and mentions:
        core = "".join(dict.fromkeys(m.canonical for m in mentions))

    return NormalizedName(
        original=original,
        core=core,
        regions=tuple(m.canonical for m in mentions),
        ordinals=_find_ordinals(core),
        region_paths=tuple(m.path for m in mentions),
        inner_regions=tuple(inner),
        branch=branch,
    )


def name_search_key(name: str) -> str:
    """Database search key of a customer name: its normalised core.

    Two names can only be judged the same (without USCC) if their keys are
    equal, or, for long Latin-script names, one letter apart; so an equality
    lookup on this key plus :func:`candidate_ngrams` for near misses is
    enough to retrieve candidates.
    """
    return normalize_customer_name(name).core


def name_province(name: str) -> str:
    """The one province a name is placed in by its region words, or '' when it has none,
    several, or a region whose province is unknown.

    Two names placed in different provinces are never the same customer (the region rule
    decides before any other), so candidates can be narrowed to the same province or none.
    """
    roots = {path[0] if path else "" for path in normalize_customer_name(name).region_paths}
    if len(roots) == 1:
        (root,) = roots
        if root in _regions.PROVINCES:
            return root
    return ""


def candidate_ngrams(core: str, n: int = 2) -> set[str]:
    """Character n-grams (bigrams by default) of a normalised core.

    Used to retrieve candidate customers cheaply (e.g. an n-gram table or a
    trigram index).  A core shorter than ``n`` yields itself; an empty core
    yields nothing.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    if not core:
        return set()
    if len(core) <= n:
        return {core}
    return {core[i : i + n] for i in range(len(core) - n + 1)}


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchVerdict:
    """Outcome of :func:`compare_customer_names`.

    ``rule`` is the short machine name of the rule that decided:
    ``uscc_equal``, ``uscc_differs``, ``empty_name``, ``region_differs``,
    ``region_level_differs``, ``core_equal``, ``branch_differs``,
    ``inner_region_differs``, ``ordinal_differs``, ``fuzzy_near_match`` or
    ``fuzzy_below_threshold``.
    """

    same: bool
    score: float
    rule: str
    normalized_a: str
    normalized_b: str
    detail: str = ""
    name_a: NormalizedName | None = field(default=None, repr=False, compare=False)
    name_b: NormalizedName | None = field(default=None, repr=False, compare=False)
    uscc_a: str | None = None
    uscc_b: str | None = None

    def evidence(self) -> dict[str, Any]:
        """Everything that led to the verdict, as a JSON-serialisable dict."""
        a = self.name_a or NormalizedName(original="", core=self.normalized_a)
        b = self.name_b or NormalizedName(original="", core=self.normalized_b)
        return {
            "same": self.same,
            "score": self.score,
            "rule": self.rule,
            "detail": self.detail,
            "normalized_a": self.normalized_a,
            "normalized_b": self.normalized_b,
            "regions_a": list(a.regions),
            "regions_b": list(b.regions),
            "ordinals_a": list(a.ordinals),
            "ordinals_b": list(b.ordinals),
            "inner_regions_a": list(a.inner_regions),
            "inner_regions_b": list(b.inner_regions),
            "branch_a": a.branch,
            "branch_b": b.branch,
            "uscc_a": self.uscc_a,
            "uscc_b": self.uscc_b,
            "name_a": a.original,
            "name_b": b.original,
        }


def _normalize_uscc(code: str | None) -> str:
    if not code:
        return ""
    return re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", str(code))).upper()


def _leaves(name: NormalizedName) -> set[tuple[str, ...]]:
    """Most specific regions: paths that are not an ancestor of another."""
    paths = set(name.region_paths)
    return {p for p in paths if not any(len(q) > len(p) and q[: len(p)] == p for q in paths)}


def _region_conflict(a: NormalizedName, b: NormalizedName) -> tuple[str, str] | None:
    """(rule, detail) if the regions of ``a`` and ``b`` rule out a match.

    Regions on one side only are set aside (北京X vs X).  When both sides
    carry regions, their most specific regions must be the same:
    浙江省杭州市X vs 杭州X compare 杭州 with 杭州 (the 浙江 is implied), but
    浙江省X vs 杭州市X, or 深圳市南山区X vs 深圳市X, name bodies at different
    administrative levels, which are different customers
    (``region_level_differs``).  A region we cannot place (a district seen
    without its city) that appears on one side only is set aside too.
    """
    leaves_a, leaves_b = _leaves(a), _leaves(b)
    if not leaves_a or not leaves_b:
        return None
    all_a = {x for p in a.region_paths for x in p}
    all_b = {x for p in b.region_paths for x in p}
    leaves_a = {p for p in leaves_a if p[0] in _regions.PROVINCES or p[-1] in all_b}
    leaves_b = {p for p in leaves_b if p[0] in _regions.PROVINCES or p[-1] in all_a}
    if not leaves_a or not leaves_b:
        return None
    names_a = {p[-1] for p in leaves_a}
    names_b = {p[-1] for p in leaves_b}
    if names_a == names_b:
        return None
    detail = f"regions {'/'.join(sorted(names_a))} vs {'/'.join(sorted(names_b))}"

    def related(p: tuple[str, ...], q: tuple[str, ...]) -> bool:
        return p[-1] in q or q[-1] in p

    if all(any(related(p, q) for q in leaves_b) for p in leaves_a) and all(
        any(related(q, p) for p in leaves_a) for q in leaves_b
    ):
        return "region_level_differs", detail
    return "region_differs", detail


_LATIN_CORE_RE = re.compile(r"[a-z0-9]+")


def _latin_near_match(a: str, b: str) -> bool:
    """One-letter typo tolerance for long Latin-script cores (see compare)."""
    if not (_LATIN_CORE_RE.fullmatch(a) and _LATIN_CORE_RE.fullmatch(b)):
        return False
    if min(len(a), len(b)) < LATIN_FUZZY_MIN_LENGTH:
        return False
    # Digits are identifiers (Unit 1 vs Unit 2): they must agree exactly.
    if re.sub(r"\D", "", a) != re.sub(r"\D", "", b):
        return False
    return OSA.distance(a, b, score_cutoff=1) <= 1


def compare_customer_names(
    name_a: str,
    name_b: str,
    uscc_a: str | None = None,
    uscc_b: str | None = None,
) -> MatchVerdict:
    """Decide whether two customer names denote the same customer.

    Rules, first decisive one wins:

    1. Both USCCs given (after NFKC, spaces/hyphens removed, upper-cased):
       equal -> same (``uscc_equal``), else different (``uscc_differs``).
       A code on one side only is ignored.
    2. An empty core on either side -> different (``empty_name``).
    3. Incompatible regions -> different (``region_differs`` /
       ``region_level_differs``; see :func:`_region_conflict`).
    4. Equal cores -> same (``core_equal``).
    5. Otherwise different, with the most telling reason: a branch on one
       side only or different branches (``branch_differs``), different inner
       regions such as a provincial subsidiary (``inner_region_differs``),
       different ordinals (``ordinal_differs``), or low similarity
       (``fuzzy_below_threshold``) -- except the typo tolerance below
       (``fuzzy_near_match``).

    Threshold design: in a Chinese name every character is a morpheme, so a
    single-character difference is usually a different organisation
    (山东/山西, 人民/省立, 理工/工业), and short cores make any percentage
    threshold meaningless (a 4-character core with one character changed
    still scores 75).  Everything that legitimately varies between two
    spellings of the same customer (width, script, case, punctuation,
    whitespace, legal form, region prefix vs brackets, 第一中学 vs 一中) is
    removed by normalisation, so cores containing any CJK character must be
    *equal*.  The only tolerance is for Latin-script cores of at least
    ``LATIN_FUZZY_MIN_LENGTH`` (20) letters, where a single letter edit or
    transposition (rapidfuzz score >= ~95) is a typo rather than another
    company; digits must still agree exactly.  ``score`` (rapidfuzz
    ``fuzz.ratio`` of the cores, 0..100) is always reported so callers can
    rank near misses for human review.
    """
    norm_a = normalize_customer_name(name_a or "")
    norm_b = normalize_customer_name(name_b or "")
    code_a, code_b = _normalize_uscc(uscc_a), _normalize_uscc(uscc_b)
    score = float(fuzz.ratio(norm_a.core, norm_b.core)) if norm_a.core and norm_b.core else 0.0

    def verdict(same: bool, rule: str, detail: str = "") -> MatchVerdict:
        return MatchVerdict(
            same=same,
            score=score,
            rule=rule,
            normalized_a=norm_a.core,
            normalized_b=norm_b.core,
            detail=detail,
            name_a=norm_a,
            name_b=norm_b,
            uscc_a=code_a or None,
            uscc_b=code_b or None,
        )

    if code_a and code_b:
        if code_a == code_b:
            return verdict(True, "uscc_equal", "same unified social credit code")
        return verdict(False, "uscc_differs", "different unified social credit codes")
    if not norm_a.core or not norm_b.core:
        return verdict(False, "empty_name", "a name is empty after normalisation")
    conflict = _region_conflict(norm_a, norm_b)
    if conflict is not None:
        return verdict(False, *conflict)
    if norm_a.core == norm_b.core:
        return verdict(True, "core_equal")
    if norm_a.branch != norm_b.branch:
        return verdict(
            False,
            "branch_differs",
            f"branch {norm_a.branch or '-'} vs {norm_b.branch or '-'}",
        )
    if norm_a.inner_regions != norm_b.inner_regions:
        return verdict(
            False,
            "inner_region_differs",
            f"inner regions {'/'.join(norm_a.inner_regions) or '-'}"
            f" vs {'/'.join(norm_b.inner_regions) or '-'}",
        )
    if norm_a.ordinals != norm_b.ordinals:
        return verdict(
            False,
            "ordinal_differs",
            f"ordinals {'/'.join(norm_a.ordinals) or '-'} vs {'/'.join(norm_b.ordinals) or '-'}",
        )
    if _latin_near_match(norm_a.core, norm_b.core):
        return verdict(True, "fuzzy_near_match", "one-letter difference in a long Latin name")
    return verdict(False, "fuzzy_below_threshold", "cores differ")


def suggestion_grams(name: str) -> set[str]:
    """Character bigrams of the normalised core of ``name`` (region words and legal forms set
    aside): what the candidate index holds, so that a short name, a shortened name or a typo of
    a customer shares at least one gram with it."""
    return candidate_ngrams(normalize_customer_name(name or "").core, 2)
