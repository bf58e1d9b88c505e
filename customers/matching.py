"""Decide whether two end-customer names denote the same customer: same, possible or different.

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
     are recorded as regions and removed; every prefecture and county-level
     division of the national list (``customers/data/divisions.tsv``) is known,
     a chain of them must descend (上海市基隆贸易: 基隆 is the 字号), a county
     name several cities share (鼓楼区) is placed by the city before it, and
     市立/省立 stay with the name only before an institution word
     (福建省立医院, but 邯郸市 + 立昂物流);
   * ambiguous short names (中山, 朝阳 ...) are not regions when bare;
     :func:`compare_customer_names` re-reads them when the other name says so;
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
   for ``same`` regions must be compatible and the cores equal, apart from
   one narrow typo tolerance for long Latin-script names; ``possible``
   covers what partners type (short names, shortened trades, homophone
   typos, one character added/dropped/swapped, two levels of one region
   path for companies, Latin near misses); everything else is ``different``.
   :func:`suggestion_grams` gives the grams a candidate index needs so that
   the ``possible`` ones are retrieved too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import opencc
import pypinyin
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from customers import regions as _regions

__all__ = [
    "LATIN_FUZZY_MIN_LENGTH",
    "MatchVerdict",
    "NormalizedName",
    "candidate_ngrams",
    "compare_customer_names",
    "name_province",
    "name_search_key",
    "normalize_customer_name",
    "suggestion_grams",
    "POSSIBLE",
    "SAME",
    "DIFFERENT",
    "VERDICTS",
]

# The converter is expensive to build and safe to share.
_T2S = opencc.OpenCC("t2s")

#: Latin-only cores at least this long tolerate a single letter edit.
LATIN_FUZZY_MIN_LENGTH = 20


# ---------------------------------------------------------------------------
# Region lookup tables (built once from customers.regions)
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
    # 1 province, 2 prefecture, 3 county level.
    level: int = 1
    # Recognised inside a name too (河南 in 中国联通河南分公司); county-level
    # names from the national list are recognised only as prefixes and in
    # brackets.
    inner: bool = True
    # One-character county names (赵县, 城区, 东区) count only right after
    # their own prefecture.
    needs_parent: bool = False


def _build_cjk_aliases() -> dict[str, tuple[_Region, ...]]:
    """Alias -> the regions it may denote (several for 鼓楼区, 朝阳区 ...)."""
    table: dict[str, list[_Region]] = {}

    def add(alias: str, region: _Region) -> None:
        regions_of = table.setdefault(alias, [])
        if regions_of and (regions_of[0].level < 3 or region.level < 3):
            return  # first definition of a province or prefecture alias wins
        if all(r.path != region.path for r in regions_of):
            regions_of.append(region)

    for prov, full_forms in _regions.PROVINCES.items():
        region = _Region(prov, (prov,))
        add(prov, region)
        for alias in full_forms:
            add(alias, region)
    for prov, names in _regions.PREFECTURES.items():
        for name in names:
            region = _Region(name, (prov, name), level=2)
            add(name + "市", region)
            for alias in _regions.PREFECTURE_FULL_NAMES.get(name, ()):
                add(alias, region)
            ambiguous = name in _regions.AMBIGUOUS_SHORT_NAMES
            add(name, _Region(name, (prov, name), ambiguous, level=2))
    for name, parents in _regions.COUNTY_LEVEL_CITIES.items():
        region = _Region(name, (*parents, name), level=3)
        add(name + "市", region)
        ambiguous = name in _regions.AMBIGUOUS_SHORT_NAMES
        add(name, _Region(name, (*parents, name), ambiguous, level=3))

    # The national list: every prefecture (under its official name) and every
    # county-level division (full name, and 景宁县 for 景宁畲族自治县).
    path_of_code: dict[str, tuple[str, ...]] = {}
    for division in _regions.load_divisions():
        parent = path_of_code.get(division.parent, ())
        if division.level in ("province", "prefecture"):
            known = table.get(division.name)
            if known and known[0].level < 3:
                path_of_code[division.code] = known[0].path
            else:  # 海南藏族自治州: its short name is a province's
                path = (*parent, division.name)
                path_of_code[division.code] = path
                add(division.name, _Region(division.name, path, level=2))
            continue
        short, suffix = _regions.county_short_name(division.name)
        path = (*parent, short)
        aliases = [division.name]
        if suffix in ("自治县", "自治旗"):
            aliases.append(short + suffix[-1])
        for alias in aliases:
            add(alias, _Region(short, path, level=3, inner=False, needs_parent=len(alias) <= 2))
    return {alias: tuple(found) for alias, found in table.items()}


_CJK_ALL_REGIONS = _build_cjk_aliases()
_CJK_MAX_ALIAS = max(map(len, _CJK_ALL_REGIONS))
# What is recognised inside a name (one region per alias).
_CJK_REGIONS: dict[str, _Region] = {
    alias: found[0] for alias, found in _CJK_ALL_REGIONS.items() if found[0].inner
}
_CJK_MAX_INNER_ALIAS = max(map(len, _CJK_REGIONS))

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
# is followed by 立 and an institution word it belongs to the institution
# (福建省立医院 = "the provincial hospital of Fujian", not "福建省" + "立医院");
# otherwise 立 starts the name (邯郸市立昂物流 = 邯郸 + 立昂物流).
_ADMIN_SUFFIX_CHARS = "省市区县州"
_INSTITUTION_AFTER_LI_RE = re.compile(
    r"立(?:第|医|人民医院|中医|中心医院|儿童|妇|肿瘤|口腔|眼科|精神|传染|学校|中学|小学|高级中学"
    r"|初级中学|大学|学院|师范|职业|实验|幼儿园|图书馆|博物馆|美术馆|体育|档案馆|文化馆|卫生)"
)
# A suffix followed by these words belongs to the next word: 上海市场… (市场),
# 海城市政工程 (市政; but 长春市政府, 长春市政务… are 长春市 + 政…), 南山区域…
# (区域), 县域经济.
_SUFFIX_WORDS = {
    "市": ("场", "政工程", "政建设", "政设施", "政园林", "政公用", "政道路", "政养护", "政环卫"),
    "区": ("域",),
    "县": ("域",),
}


@dataclass(frozen=True)
class _Mention:
    canonical: str
    path: tuple[str, ...]


def _suffix_backoff(alias: str, rest: str) -> bool:
    """True if ``alias``'s suffix really belongs to the text that follows (``rest``)."""
    if alias[-1] not in _ADMIN_SUFFIX_CHARS or len(alias) < 2:
        return False
    if rest[:1] == "立":  # 省立医院 / 市立第一医院; 兰州立宇, 邯郸市立昂 are 兰州 + 立宇
        return alias[-1] in "省市区县" and _INSTITUTION_AFTER_LI_RE.match(rest) is not None
    return rest.startswith(_SUFFIX_WORDS.get(alias[-1], ()))


def _pick_region(
    found: tuple[_Region, ...],
    prev: _Mention | None,
    allow_ambiguous: bool | str,
) -> _Region | None:
    """The region an alias denotes here, given the region before it (if any)."""
    region = found[0]
    if region.level < 3 or region.inner:
        if region.ambiguous and allow_ambiguous is not True and allow_ambiguous != region.canonical:
            # 广东中山… : right after its own province the bare name is safe.
            if not (prev and prev.path == (region.path[0],)):
                return None
        return region
    # A county-level name from the national list: the one under the region
    # named before it, else the only one of that name, else unplaced.
    if prev is not None:
        for candidate in found:
            if candidate.path[: len(prev.path)] == prev.path:
                return candidate
    if region.needs_parent:
        return None
    if prev is not None:
        return _Region(region.canonical, (*prev.path, region.canonical), level=3, inner=False)
    if len(found) == 1:
        return region
    return _Region(region.canonical, (region.canonical,), level=3, inner=False)


def _match_cjk_region(
    s: str,
    pos: int,
    allow_ambiguous: bool | str,
    prev: _Mention | None,
    inner: bool = False,
) -> tuple[int, _Region] | None:
    """Longest region alias starting at ``s[pos]``, or None.

    ``allow_ambiguous`` is True (inside brackets), False, or the one
    ambiguous short name that may be read as a region here.  With ``inner``
    only the regions recognised inside a name are looked up.
    """
    longest = _CJK_MAX_INNER_ALIAS if inner else _CJK_MAX_ALIAS
    for length in range(min(longest, len(s) - pos), 0, -1):
        alias = s[pos : pos + length]
        if inner:
            region = _CJK_REGIONS.get(alias)
            found = (region,) if region is not None else None
        else:
            found = _CJK_ALL_REGIONS.get(alias)
        if not found:
            continue
        if _suffix_backoff(alias, s[pos + length : pos + length + 12]):
            continue
        region = _pick_region(found, prev, allow_ambiguous)
        if region is None:
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
    if _INSTITUTION_AFTER_LI_RE.match(s[m.end() :]):
        return None
    path = (*prev.path, name) if prev else (name,)
    return m.end(), _Mention(name, path)


def _match_region_prefix(
    s: str, prev: _Mention | None, allow_ambiguous: bool | str
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


def _take_leading_regions(
    s: str, allow_ambiguous: bool | str = False
) -> tuple[str, list[_Mention]]:
    """Strip the chain of region words at the start of ``s``."""
    mentions: list[_Mention] = []
    while True:
        s = s.lstrip()
        hit = _match_region_prefix(s, mentions[-1] if mentions else None, allow_ambiguous)
        if hit is None:
            return s, mentions
        length, mention = hit
        if mentions and mention.path[: len(mentions[-1].path)] != mentions[-1].path:
            # A chain of regions descends (浙江省杭州市西湖区); a place elsewhere
            # after it is part of the name (上海市基隆贸易, 锦州安顺餐饮).
            return s, mentions
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
            hit = _match_cjk_region(s, i, allow_ambiguous=False, prev=None, inner=True)
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
    for length in range(min(_CJK_MAX_INNER_ALIAS, len(stripped)), 0, -1):
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
    # Whether the name carried a legal form (有限公司, 集团, Co., Ltd. ...):
    # a bare 格式塔电子 is what a partner types, not a registered name.
    legal_form: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable view."""
        return {
            "original": self.original,
            "core": self.core,
            "regions": list(self.regions),
            "ordinals": list(self.ordinals),
            "inner_regions": list(self.inner_regions),
            "branch": self.branch,
            "legal_form": self.legal_form,
        }


def _on_one_path(first: list[_Mention], second: list[_Mention]) -> bool:
    """True if every region of ``first`` lies on one path with one of ``second``."""
    return all(
        any(p.path[: len(q.path)] == q.path or q.path[: len(p.path)] == p.path for q in second)
        for p in first
    )


def _fold(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    s = _T2S.convert(s)
    s = s.lower().translate(_BRACKETS).replace("&", " and ")
    s = _LATIN_JOINER_RE.sub("", s)
    return _SEPARATOR_RE.sub(" ", s)


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
    return _normalize(name, "")


@lru_cache(maxsize=65536)
def _normalize(name: str, ambiguous_region: str) -> NormalizedName:
    """:func:`normalize_customer_name`, reading a leading ``ambiguous_region``
    (中山, 朝阳 ...) as that region rather than as part of the name."""
    original = name
    s = _fold(name or "")

    # Brackets, innermost first.
    bracket_mentions: list[_Mention] = []
    legal_form = False

    def replace_bracket(m: re.Match[str]) -> str:
        nonlocal legal_form
        content = m.group(1).strip()
        if not content:
            return " "
        if _bracket_content_is_noise(content):
            legal_form = legal_form or not _strip_legal_forms(content).strip()
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

    rest, leading = _take_leading_regions(s, ambiguous_region or False)
    if leading and bracket_mentions and not _on_one_path(leading, bracket_mentions):
        # One organisation is in one place: with 天津 in brackets, the 金华 of
        # 金华网络科技(天津) is its 字号, not a second place.
        leading = []
    else:
        s = rest
    head, tail = _split_branch(s)
    stripped = _strip_legal_forms(head)
    legal_form = legal_form or stripped.replace(" ", "") != head.replace(" ", "") or bool(tail)
    head = stripped
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
        legal_form=legal_form,
    )


def name_search_key(name: str) -> str:
    """Database search key of a customer name: its normalised core.

    Two names can only be judged the same (without USCC) if their keys are
    equal, or, for long Latin-script names, one letter apart (or a bare
    ambiguous city name starts one of them: 中山慕舍电子 vs 慕舍电子(中山));
    so an equality lookup on this key plus :func:`candidate_ngrams` for near
    misses is enough to retrieve candidates for ``same``;
    :func:`suggestion_grams` retrieves the ``possible`` ones.
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


SAME = "same"
POSSIBLE = "possible"
DIFFERENT = "different"
VERDICTS = (SAME, POSSIBLE, DIFFERENT)


@dataclass(frozen=True)
class MatchVerdict:
    """Outcome of :func:`compare_customer_names`.

    ``verdict`` is ``same``, ``possible`` or ``different`` (``same`` is kept
    as a property for the callers that only open conflicts).  ``rule`` is the
    short machine name of the rule that decided (see
    :func:`compare_customer_names` for the list); ``score`` is the rapidfuzz
    ratio of the two cores, 0..100.
    """

    verdict: str
    score: float
    rule: str
    normalized_a: str
    normalized_b: str
    detail: str = ""
    name_a: NormalizedName | None = field(default=None, repr=False, compare=False)
    name_b: NormalizedName | None = field(default=None, repr=False, compare=False)
    uscc_a: str | None = None
    uscc_b: str | None = None

    @property
    def same(self) -> bool:
        """True if the names denote one registered organisation (opens a conflict)."""
        return self.verdict == SAME

    @property
    def possible(self) -> bool:
        """True if a person should look at the pair (a suggestion, never a conflict)."""
        return self.verdict == POSSIBLE

    def evidence(self) -> dict[str, Any]:
        """Everything that led to the verdict, as a JSON-serialisable dict."""
        a = self.name_a or NormalizedName(original="", core=self.normalized_a)
        b = self.name_b or NormalizedName(original="", core=self.normalized_b)
        return {
            "verdict": self.verdict,
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
            "legal_form_a": a.legal_form,
            "legal_form_b": b.legal_form,
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


def _placed(leaves: set[tuple[str, ...]], other: NormalizedName) -> set[tuple[str, ...]]:
    """Leaves with a known place; an unplaced one (鼓楼区 without its city) takes
    the place the other name gives the same word, or is set aside."""
    placed: set[tuple[str, ...]] = set()
    for path in leaves:
        if path[0] in _regions.PROVINCES:
            placed.add(path)
            continue
        for other_path in other.region_paths:
            if path[-1] in other_path:
                placed.add(other_path[: other_path.index(path[-1]) + 1])
    return placed


def _region_conflict(a: NormalizedName, b: NormalizedName) -> tuple[str, str] | None:
    """(rule, detail) if the regions of ``a`` and ``b`` are not the same place.

    Regions on one side only are set aside (北京X vs X).  When both sides
    carry regions, their most specific regions must be the same place (a
    path from the province down): 浙江省杭州市X vs 杭州X compare 杭州 with
    杭州 (the 浙江 is implied); 北京市朝阳区 and 长春市朝阳区 are two places.
    Two levels of one path (浙江省X vs 杭州市X, 深圳市南山区X vs 深圳市X) give
    ``region_level_differs``; anything else ``region_differs``.  A region we
    cannot place (a district seen without its city, or a name several cities
    share) is placed by the other name, or set aside.
    """
    leaves_a, leaves_b = _leaves(a), _leaves(b)
    if not leaves_a or not leaves_b:
        return None
    leaves_a, leaves_b = _placed(leaves_a, b), _placed(leaves_b, a)
    if not leaves_a or not leaves_b or leaves_a == leaves_b:
        return None
    # Whole paths, so that 北京朝阳 vs 吉林长春朝阳 reads as two places.
    names_a = {"".join(p) for p in leaves_a}
    names_b = {"".join(p) for p in leaves_b}
    detail = f"regions {'/'.join(sorted(names_a))} vs {'/'.join(sorted(names_b))}"

    def related(p: tuple[str, ...], q: tuple[str, ...]) -> bool:
        return p[: len(q)] == q or q[: len(p)] == p

    if all(any(related(p, q) for q in leaves_b) for p in leaves_a) and all(
        any(related(q, p) for p in leaves_a) for q in leaves_b
    ):
        return "region_level_differs", detail
    return "region_differs", detail


def _reread_ambiguous(
    norm: NormalizedName, other: NormalizedName, force: bool = False
) -> NormalizedName:
    """Read a leading ambiguous short name (中山, 朝阳, 白银 ...) as a region when
    the other name carries regions explicitly and this reading explains the pair:
    the other name names that very region (慕舍电子(中山)), or the rest of this
    name is the other's core (金昌德尔格物流 vs 渭南德尔格物流: two cities)."""
    if not other.regions and not force:
        return norm
    core = norm.core
    if force and not norm.regions:
        for length in (4, 3, 2):
            if len(core) > length and core[:length] in _regions.AMBIGUOUS_SHORT_NAMES:
                reread = _normalize(norm.original, core[:length])
                return reread if core[:length] in reread.regions else norm
        return norm
    for length in (4, 3, 2):
        word = core[:length]
        if len(core) <= length or word not in _regions.AMBIGUOUS_SHORT_NAMES:
            continue
        other_places = {x for path in other.region_paths for x in path}
        if word in other_places or core[length:] == other.core:
            reread = _normalize(norm.original, word)
            if word in reread.regions:
                return reread
    return norm


def _inner_regions_decide(a: NormalizedName, b: NormalizedName) -> bool:
    """True if different inner regions make two organisations: both names have
    some (中国移动通信集团江苏 vs 福建), or the cores agree once they are set
    aside (中国移动通信集团 vs 中国移动通信集团江苏).  A 字号 that merely looks
    like a place and is mistyped (基隆服饰 vs 基弄服饰) is left to the other
    rules."""
    if a.inner_regions and b.inner_regions:
        return True

    def without(n: NormalizedName) -> str:
        core = n.core
        for region in n.inner_regions:
            core = core.replace(region, "", 1)
        return core

    core_a, core_b = without(a), without(b)
    return core_a == core_b or core_a.startswith(core_b) or core_b.startswith(core_a)


# Cores of public bodies: the same core exists in every city, district and
# province (财政局, 人民医院, 第一中学), so two levels of one path are two bodies.
_PUBLIC_BODY_RE = re.compile(
    r"(局|厅|委员会|委|政府|法院|检察院|医院|卫生院|保健院|学校|中学|小学|大学|学院|幼儿园"
    r"|中心|馆|办公室|研究所|研究院|科学院|大队|支队|总队|监狱|看守所|站|台|联合社|联社|党校)$"
)


def _is_public_body(norm: NormalizedName) -> bool:
    return not norm.legal_form and (
        bool(norm.ordinals) or _PUBLIC_BODY_RE.search(norm.core) is not None
    )


@lru_cache(maxsize=8192)
def _readings(char: str) -> frozenset[str]:
    """Toneless pinyin readings of one character (every reading of a heteronym)."""
    if not ("\u4e00" <= char <= "\u9fff"):
        return frozenset({char})
    return frozenset(pypinyin.pinyin(char, style=pypinyin.Style.NORMAL, heteronym=True)[0])


def _homophones(x: str, y: str) -> bool:
    return x != y and not _readings(x).isdisjoint(_readings(y))


def _one_substitution(a: str, b: str) -> int:
    """Index of the only differing position of equal-length strings, else -1."""
    if len(a) != len(b):
        return -1
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return diffs[0] if len(diffs) == 1 else -1


def _one_deletion(short: str, long: str) -> bool:
    """True if ``short`` is ``long`` with one character left out."""
    if len(long) != len(short) + 1:
        return False
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def _adjacent_transposition(a: str, b: str) -> bool:
    if len(a) != len(b) or a == b:
        return False
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return (
        len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and a[diffs[0]] == b[diffs[1]]
        and (a[diffs[1]] == b[diffs[0]])
    )


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


# Trade words (行业): what follows the 字号 in a company name.  Used to tell a
# shortened trade (海康威视技术 for 海康威视数字技术) from another trade
# (法兰多物流 vs 法兰多云计算) and a short name from the full name.
# fmt: off
TRADE_WORDS: tuple[str, ...] = tuple(sorted(
    {
        "信息", "技术", "科技", "网络", "数字", "数据", "软件", "智能", "通信", "通讯", "系统",
        "集成", "电子", "电气", "电力", "机械", "精密", "制造", "新材料", "材料", "汽车",
        "零部件", "化工", "纺织", "生物", "医药", "制药", "医疗", "器械", "食品", "服饰",
        "电子商务", "商务", "物流", "供应链", "管理", "贸易", "实业", "投资", "融资", "租赁",
        "建设", "工程", "建筑", "设计", "环保", "新能源", "能源", "文化", "传媒", "教育",
        "物业", "房地产", "开发", "酒店", "餐饮", "人力资源", "光电", "交通", "云计算",
        "自动化", "安防", "半导体", "计算机", "咨询", "服务", "发展", "控股", "产业", "工业",
        "商贸", "国际", "电器", "仪器", "设备", "装备", "节能", "照明", "家居", "装饰",
        "农业", "环境", "检测", "网络科技", "信息技术", "互联网", "大数据", "人工智能", "医学",
        "健康", "生态", "印刷", "包装", "塑胶", "塑料", "五金", "模具", "机电", "仪表",
    },
    key=len,
    reverse=True,
))
# fmt: on
_TRADE_TAIL_RE = re.compile("(?:" + "|".join(TRADE_WORDS) + ")+$")
# A 字号 that is only a country word is no 字号: 中国银行 vs 中国农业银行.
_GENERIC_BRANDS = frozenset({"中国", "中华", "国家", "全国", "国际", "中央", "人民", "华夏"})


def _split_trade(core: str) -> tuple[str, str]:
    """(字号, trade words) of a core: 海康威视数字技术 -> (海康威视, 数字技术)."""
    m = _TRADE_TAIL_RE.search(core)
    if m is None or m.start() == 0:
        return core, ""
    return core[: m.start()], m.group()


def _possible_rule(a: NormalizedName, b: NormalizedName) -> tuple[str, str] | None:
    """(rule, detail) if the two cores are what partners type for one customer."""
    short, long = sorted((a.core, b.core), key=len)
    if _LATIN_CORE_RE.fullmatch(short) and _LATIN_CORE_RE.fullmatch(long):
        if _latin_near_miss(short, long):
            return "latin_near_miss", "Latin names one or two letters apart"
        return None
    public = _is_public_body(a) or _is_public_body(b)
    brand_short, trade_short = _split_trade(short)
    brand_long, trade_long = _split_trade(long)
    brand_ok = len(brand_short) >= 2 and brand_short not in _GENERIC_BRANDS
    if len(short) >= 2 and long.startswith(short) and not _is_public_body_core(short):
        if brand_long == short or (brand_ok and brand_short == brand_long):
            return "short_name", f"{short} is the 字号 of {long}"
        if brand_long.startswith(short) and len(short) >= 2 and short not in _GENERIC_BRANDS:
            return "short_name", f"{short} starts {long}"
    if brand_ok and brand_short == brand_long and trade_short and trade_long:
        if _is_subsequence(trade_short, trade_long):
            return "trade_words_shortened", f"trade {trade_short} vs {trade_long}"
        return None  # same 字号, another trade: another company (trade_differs)
    i = _one_substitution(short, long)
    if i >= 0 and _homophones(short[i], long[i]):
        return "homophone_typo", f"{short[i]} / {long[i]} sound alike"
    if len(short) >= 2 and len(short) < len(long) and not public:
        head = long[: len(short)]
        j = _one_substitution(short, head)
        # The short name is the 字号 (or part of it), or the 字号 with some of its trade words
        # (腾迅计算机 for 腾讯计算机系统): one character of it typed with the same sound.
        covers_brand = brand_long.startswith(head) or (
            len(brand_long) >= 2 and head.startswith(brand_long)
        )
        if j >= 0 and _homophones(short[j], head[j]) and covers_brand:
            return "homophone_typo", f"{short[j]} / {head[j]} sound alike, in a short name"
    if public:
        return None
    if len(long) >= 5 and _one_deletion(short, long):
        return "char_added_or_dropped", "one character added or dropped"
    if len(long) >= 4 and _adjacent_transposition(short, long):
        return "chars_transposed", "two adjacent characters swapped"
    return None


def _is_public_body_core(core: str) -> bool:
    return _PUBLIC_BODY_RE.search(core) is not None


_LATIN_CORE_RE = re.compile(r"[a-z0-9]+")


def _digits_agree(a: str, b: str) -> bool:
    # Digits are identifiers (Unit 1 vs Unit 2): they must agree exactly.
    return re.sub(r"\D", "", a) == re.sub(r"\D", "", b)


def _latin_near_match(a: str, b: str) -> bool:
    """One-letter typo tolerance for long Latin-script cores (see compare)."""
    if not (_LATIN_CORE_RE.fullmatch(a) and _LATIN_CORE_RE.fullmatch(b)):
        return False
    if min(len(a), len(b)) < LATIN_FUZZY_MIN_LENGTH:
        return False
    if not _digits_agree(a, b):
        return False
    return OSA.distance(a, b, score_cutoff=1) <= 1


def _latin_near_miss(a: str, b: str) -> bool:
    """Latin cores one edit apart (two from 8 letters on), same first letter."""
    if min(len(a), len(b)) < 4 or a[0] != b[0] or not _digits_agree(a, b):
        return False
    allowed = 2 if min(len(a), len(b)) >= 8 else 1
    return OSA.distance(a, b, score_cutoff=allowed) <= allowed


def compare_customer_names(
    name_a: str,
    name_b: str,
    uscc_a: str | None = None,
    uscc_b: str | None = None,
) -> MatchVerdict:
    """Decide whether two customer names denote the same customer.

    Three verdicts: ``same`` (one registered organisation: opens a conflict,
    so never said of two different organisations), ``possible`` (what
    partners really type for a customer: shown to a person as a suggestion)
    and ``different``.  Rules, first decisive one wins:

    1. Both USCCs given (after NFKC, spaces/hyphens removed, upper-cased):
       equal -> same (``uscc_equal``), else different (``uscc_differs``).
       A code on one side only is ignored.
    2. An empty core on either side -> different (``empty_name``).
    3. Ambiguous short names (中山, 朝阳, 白银, 北海, 广安, 通化, 金昌, 来宾,
       中卫 ...: city names that are also ordinary words) are part of the name
       when bare (中山大学, 朝阳医院), unless the other name carries regions
       explicitly (with 市 or in brackets) and names that very region
       (中山慕舍电子 vs 慕舍电子(中山): 中山 + 慕舍电子) or the rest equals its
       core (金昌德尔格物流 vs 渭南德尔格物流: two cities).
    4. Regions (see :func:`_region_conflict`): other places at one level ->
       different (``region_differs``); two levels of one path (北京市海淀区X
       vs X(北京), 深圳市南山区X vs 深圳市X) -> different for public bodies,
       which exist at every level (深圳市财政局 vs 深圳市南山区财政局), and at
       most possible for companies (``region_level_differs``).
    5. Before any possible rule, what makes another organisation: a branch on
       one side only or different branches (``branch_differs``; a head
       office's core is a prefix of its branch's), other inner regions such as
       provincial subsidiaries (``inner_region_differs``), other ordinals
       (``ordinal_differs``) -> different.
    6. Equal cores -> same (``core_equal``); but possible when the regions are
       at two levels (``region_level_differs``) or when one name has neither
       region nor legal form and the other has a region (格式塔电子 vs
       山东省日照市格式塔电子股份有限公司: ``short_name_region_dropped``; with
       the legal form kept, 点灯山贸易股份有限公司, it is same).
    7. Long Latin-script cores (``LATIN_FUZZY_MIN_LENGTH``, 20 letters) one
       letter edit apart, digits equal -> same (``fuzzy_near_match``).
    8. Possible rules (:func:`_possible_rule`):
       ``short_name`` (the 字号, with or without region: 海康威视, 卡拉多,
       宣城闽新, or the 字号 plus the first trade words);
       ``trade_words_shortened`` (same 字号, trade words a shortened form:
       海康威视技术 for 海康威视数字技术);
       ``homophone_typo`` (one character replaced by another of the same
       toneless pinyin, any reading of a heteronym: 腾迅/腾讯, 乐美十/乐美仕,
       also in a short name);
       ``char_added_or_dropped`` (one character, cores of 5+ characters);
       ``chars_transposed`` (two adjacent characters, cores of 4+);
       ``latin_near_miss`` (Latin cores one edit apart, two from 8 letters,
       same first letter, same digits).  The last two and typos in short
       names are not applied to public bodies (人民医院 vs 人民中医院).
       Also ``region_word_in_name``: the regions differ only if a place
       name is read as a region on one side and as the 字号 on the other
       (上海市基隆贸易 vs 基隆贸易有限公司).
    9. Otherwise different: ``trade_differs`` (same 字号, another trade:
       东营法兰多云计算 vs 东营法兰多物流) or ``fuzzy_below_threshold``
       (a one-character change that is not a homophone, 锋鱼/梵鱼, or just
       other names).

    Why so strict for ``same``: in a Chinese name every character is a
    morpheme, so a single-character difference is usually a different
    organisation (山东/山西, 人民/省立, 理工/工业), and short cores make any
    percentage threshold meaningless.  Everything that legitimately varies
    between two spellings of one registered name (width, script, case,
    punctuation, whitespace, legal form, region prefix vs brackets, 第一中学
    vs 一中) is removed by normalisation, so ``same`` needs equal cores;
    what partners abbreviate or mistype is ``possible``, for a person to
    decide.  ``score`` (rapidfuzz ``fuzz.ratio`` of the cores, 0..100) is
    always reported so callers can rank suggestions.
    """
    norm_a = normalize_customer_name(name_a or "")
    norm_b = normalize_customer_name(name_b or "")
    code_a, code_b = _normalize_uscc(uscc_a), _normalize_uscc(uscc_b)

    def verdict(outcome: str, rule: str, detail: str = "") -> MatchVerdict:
        score = float(fuzz.ratio(norm_a.core, norm_b.core)) if norm_a.core and norm_b.core else 0.0
        return MatchVerdict(
            verdict=outcome,
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
            return verdict(SAME, "uscc_equal", "same unified social credit code")
        return verdict(DIFFERENT, "uscc_differs", "different unified social credit codes")
    if not norm_a.core or not norm_b.core:
        return verdict(DIFFERENT, "empty_name", "a name is empty after normalisation")
    if norm_a.core != norm_b.core:
        norm_a, norm_b = _reread_ambiguous(norm_a, norm_b), _reread_ambiguous(norm_b, norm_a)
    conflict = _region_conflict(norm_a, norm_b)
    level_detail = ""
    if conflict is not None:
        rule, detail = conflict
        if rule == "region_differs" and (
            any(norm_a.core == r + norm_b.core for r in norm_b.regions)
            or any(norm_b.core == r + norm_a.core for r in norm_a.regions)
        ):
            # 上海市基隆贸易 vs 基隆贸易有限公司: 基隆 is a place or the 字号.
            return verdict(POSSIBLE, "region_word_in_name", f"{detail}, or a 字号")
        if rule == "region_differs" or _is_public_body(norm_a) or _is_public_body(norm_b):
            return verdict(DIFFERENT, rule, detail)
        level_detail = detail
    if norm_a.branch != norm_b.branch:
        return verdict(
            DIFFERENT,
            "branch_differs",
            f"branch {norm_a.branch or '-'} vs {norm_b.branch or '-'}",
        )
    if norm_a.inner_regions != norm_b.inner_regions and _inner_regions_decide(norm_a, norm_b):
        return verdict(
            DIFFERENT,
            "inner_region_differs",
            f"inner regions {'/'.join(norm_a.inner_regions) or '-'}"
            f" vs {'/'.join(norm_b.inner_regions) or '-'}",
        )
    if norm_a.ordinals != norm_b.ordinals:
        return verdict(
            DIFFERENT,
            "ordinal_differs",
            f"ordinals {'/'.join(norm_a.ordinals) or '-'} vs {'/'.join(norm_b.ordinals) or '-'}",
        )
    if norm_a.core == norm_b.core:
        if level_detail:
            return verdict(POSSIBLE, "region_level_differs", level_detail)
        bare, full = (norm_a, norm_b) if not norm_a.regions else (norm_b, norm_a)
        if full.regions and not bare.regions and not bare.legal_form:
            return verdict(
                POSSIBLE,
                "short_name_region_dropped",
                "a name without region or legal form against a name with a region",
            )
        return verdict(SAME, "core_equal")
    if _latin_near_match(norm_a.core, norm_b.core):
        if level_detail:
            return verdict(POSSIBLE, "region_level_differs", level_detail)
        return verdict(SAME, "fuzzy_near_match", "one-letter difference in a long Latin name")
    possible = _possible_rule(norm_a, norm_b)
    if possible is not None:
        rule, detail = possible
        if level_detail:
            detail = f"{detail}; {level_detail}"
        return verdict(POSSIBLE, rule, detail)
    # A leading ambiguous word the other name does not explain (安康花月浓软件 vs
    # 花月浓): read as a region, the pair can only be possible.
    for this, other in ((norm_a, norm_b), (norm_b, norm_a)):
        reread = _reread_ambiguous(this, other, force=True)
        if reread is this:
            continue
        if reread.core == other.core:
            return verdict(
                POSSIBLE, "short_name_region_dropped", f"{reread.regions[0]} read as a region"
            )
        possible = _possible_rule(reread, other)
        if possible is not None:
            rule, detail = possible
            return verdict(POSSIBLE, rule, f"{detail}; {reread.regions[0]} read as a region")
    brand_a, trade_a = _split_trade(norm_a.core)
    brand_b, trade_b = _split_trade(norm_b.core)
    if brand_a == brand_b and trade_a and trade_b and len(brand_a) >= 2:
        return verdict(DIFFERENT, "trade_differs", f"trade {trade_a} vs {trade_b}")
    return verdict(DIFFERENT, "fuzzy_below_threshold", "cores differ")


def suggestion_grams(name: str) -> set[str]:
    """Grams a candidate index should hold for ``name`` (and look up for a query).

    The character bigrams of the normalised core (regions and legal forms set
    aside), plus its skip-bigrams (characters i and i+2) and, for Chinese
    characters, toneless pinyin bigrams (``~teng xun``; every reading of a
    heteronym, at most four combinations a bigram).  So a short name (a
    prefix of the core: shares its first bigram), a shortened name (keeps a
    bigram), a one-character typo (keeps a bigram in a core of 3+
    characters; a homophone keeps its pinyin bigram even in 2 characters),
    a character added or dropped (the skip-bigram over the gap equals a
    bigram of the other) and two swapped characters share at least one gram
    with the registered name.  A one-character core yields itself.
    """
    core = normalize_customer_name(name or "").core
    if not core:
        return set()
    if len(core) == 1:
        return {core}
    grams = {core[i : i + 2] for i in range(len(core) - 1)}
    grams |= {core[i] + core[i + 2] for i in range(len(core) - 2)}
    for i in range(len(core) - 1):
        x, y = core[i], core[i + 1]
        if "\u4e00" <= x <= "\u9fff" and "\u4e00" <= y <= "\u9fff":
            combos = [f"~{p} {q}" for p in sorted(_readings(x)) for q in sorted(_readings(y))]
            grams.update(combos[:4])
    return grams


# Benchmarks and tests empty the normalisation cache through the public name.
normalize_customer_name.cache_clear = _normalize.cache_clear  # type: ignore[attr-defined]
