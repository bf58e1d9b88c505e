"""Realistic end-customer names and the variants partners type when they register a deal.

Names are built from real region names (customers.regions), invented brand words, industry words
and legal forms: companies (some with the region in brackets, some branches), public bodies at
province, city and district level (hospitals, bureaus, schools: the same core in every city),
banks' branches, state-owned groups, Hong Kong / Macau / Taiwan companies written in
traditional characters, and English names of Chinese and foreign companies.

Variants (``name_variant``) are what the same customer looks like in another partner's
registration: part of the name in traditional characters, the region moved into brackets or
out of them, full-width brackets, another legal form, English case and punctuation.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import opencc

from customers import regions as _regions

_S2T = opencc.OpenCC("s2t")
_T2S = opencc.OpenCC("t2s")


def to_traditional(text: str) -> str:
    return _S2T.convert(text)


# --- regions ------------------------------------------------------------------------

MUNICIPALITIES = ("北京", "上海", "天津", "重庆")
# Prefecture-level cities whose official name is "<name>市" (not 地区 / 盟 / 自治州), and not a
# bare name the matcher treats as ambiguous (中山, 大同...): those always get their 市.
_OUTSIDE_MAINLAND = ("台湾", "香港", "澳门")
_CITY_PROVINCE: dict[str, str] = {name: name for name in MUNICIPALITIES}
for _province, _cities in _regions.PREFECTURES.items():
    for _city in _cities:
        if _city not in _regions.PREFECTURE_FULL_NAMES and _province not in _OUTSIDE_MAINLAND:
            _CITY_PROVINCE.setdefault(_city, _province)
CITIES = tuple(_CITY_PROVINCE)
# Customers cluster in the big cities: the ones with an English name in customers.regions.
_BIG = set(_regions.ENGLISH_NAMES) | set(MUNICIPALITIES)
CITY_WEIGHTS = tuple(8 if city in _BIG else 1 for city in CITIES)
PROVINCES = tuple(
    p for p in _regions.PROVINCES if p not in MUNICIPALITIES + ("台湾", "香港", "澳门")
)
# English spellings of the cities that have one (for English names of Chinese companies).
CITY_ENGLISH = {
    city: aliases[0].title()
    for city, aliases in _regions.ENGLISH_NAMES.items()
    if city in _CITY_PROVINCE and " " not in aliases[0]
}
PROVINCE_SUFFIX = {"内蒙古": "自治区", "广西": "壮族自治区", "西藏": "自治区", "宁夏": "回族自治区"}
PROVINCE_SUFFIX |= {"新疆": "维吾尔自治区"}

# District / county names: invented two-character words, never one the matcher reads as
# something else than a district.
_DISTRICT_FIRST = "东西南北新安平永长宁兴广清江河金龙福华城高雪白青丰临云"
_DISTRICT_SECOND = "城阳山江平安宁丰远和泉源湖林川州台门桥岭溪沙田塘坪"
DISTRICTS = tuple(
    a + b
    for a in _DISTRICT_FIRST
    for b in _DISTRICT_SECOND
    if a != b and a + b not in _regions.NON_DISTRICT_ZONE_WORDS
)

# --- companies ----------------------------------------------------------------------

_BRAND_CHARS = (
    "恒达华瑞天成兴业顺发安泰宏图嘉禾德润隆基远航信通博智联创源盛鑫鼎辉海峰明正金银宇星辰"
    "云启飞扬同合利丰汇融众诚立方易迅捷卓越锐凯晟昊泽宸翰睿弘毅铭峻晨曦朗诺奥维磐蓝光"
)
CN_INDUSTRIES = (
    ("信息技术", "IT"),
    ("科技", "IT"),
    ("网络科技", "IT"),
    ("软件", "IT"),
    ("数据科技", "IT"),
    ("智能科技", "IT"),
    ("通信技术", "IT"),
    ("系统集成", "IT"),
    ("电子", "制造"),
    ("电气", "制造"),
    ("机械", "制造"),
    ("精密制造", "制造"),
    ("新材料", "制造"),
    ("汽车零部件", "制造"),
    ("化工", "制造"),
    ("纺织", "制造"),
    ("生物科技", "医疗"),
    ("医药", "医疗"),
    ("医疗器械", "医疗"),
    ("食品", "零售"),
    ("服饰", "零售"),
    ("电子商务", "零售"),
    ("物流", "物流"),
    ("供应链管理", "物流"),
    ("贸易", "零售"),
    ("实业", "制造"),
    ("投资", "金融"),
    ("融资租赁", "金融"),
    ("建设工程", "建筑"),
    ("建筑设计", "建筑"),
    ("环保科技", "能源"),
    ("新能源", "能源"),
    ("能源", "能源"),
    ("文化传媒", "传媒"),
    ("教育科技", "教育"),
    ("物业管理", "地产"),
    ("房地产开发", "地产"),
    ("酒店管理", "服务"),
    ("餐饮管理", "服务"),
    ("人力资源", "服务"),
)
CN_LEGAL_FORMS = (
    ("有限公司", 55),
    ("股份有限公司", 20),
    ("有限责任公司", 10),
    ("集团有限公司", 8),
    ("集团股份有限公司", 3),
    ("股份公司", 2),
    ("公司", 2),
)
LEGAL_SWAPS = (
    ("集团股份有限公司", "集团有限公司"),
    ("股份有限公司", "股份公司"),
    ("有限责任公司", "有限公司"),
    ("集团有限公司", "集团公司"),
    ("有限公司", "有限责任公司"),
    ("股份公司", "股份有限公司"),
)

# --- public bodies --------------------------------------------------------------------

CITY_BODIES = (
    ("人民医院", "医疗"),
    ("第{n}人民医院", "医疗"),
    ("中医院", "医疗"),
    ("中心医院", "医疗"),
    ("妇幼保健院", "医疗"),
    ("疾病预防控制中心", "医疗"),
    ("公安局", "政府"),
    ("财政局", "政府"),
    ("教育局", "政府"),
    ("人力资源和社会保障局", "政府"),
    ("交通运输局", "政府"),
    ("卫生健康委员会", "政府"),
    ("大数据管理局", "政府"),
    ("政务服务数据管理局", "政府"),
    ("市场监督管理局", "政府"),
    ("自然资源和规划局", "政府"),
    ("住房公积金管理中心", "政府"),
    ("中级人民法院", "政府"),
    ("人民检察院", "政府"),
    ("应急管理局", "政府"),
    ("生态环境局", "政府"),
    ("统计局", "政府"),
    ("图书馆", "文化"),
    ("档案馆", "政府"),
    ("第{n}中学", "教育"),
    ("实验中学", "教育"),
    ("实验小学", "教育"),
    ("外国语学校", "教育"),
    ("职业技术学院", "教育"),
    ("广播电视台", "传媒"),
)
DISTRICT_BODIES = (
    ("人民医院", "医疗"),
    ("中医院", "医疗"),
    ("妇幼保健院", "医疗"),
    ("社区卫生服务中心", "医疗"),
    ("教育局", "政府"),
    ("财政局", "政府"),
    ("人民法院", "政府"),
    ("人民检察院", "政府"),
    ("市场监督管理局", "政府"),
    ("第{n}中学", "教育"),
    ("实验小学", "教育"),
    ("第{n}小学", "教育"),
    ("融媒体中心", "传媒"),
)
PROVINCE_BODIES = (
    ("人民医院", "医疗"),
    ("肿瘤医院", "医疗"),
    ("儿童医院", "医疗"),
    ("公安厅", "政府"),
    ("财政厅", "政府"),
    ("教育厅", "政府"),
    ("卫生健康委员会", "政府"),
    ("大数据局", "政府"),
    ("高级人民法院", "政府"),
    ("疾病预防控制中心", "医疗"),
    ("交通投资集团有限公司", "交通"),
    ("能源集团有限公司", "能源"),
    ("高速公路集团有限公司", "交通"),
    ("农村信用社联合社", "金融"),
)
STATE_GROUPS = (
    ("地铁集团有限公司", "交通"),
    ("轨道交通集团有限公司", "交通"),
    ("水务集团有限公司", "公用事业"),
    ("燃气集团有限公司", "能源"),
    ("城市建设投资集团有限公司", "建筑"),
    ("港务集团有限公司", "交通"),
    ("公共交通集团有限公司", "交通"),
    ("文化旅游集团有限公司", "服务"),
    ("国有资本投资运营有限公司", "金融"),
    ("热力有限公司", "公用事业"),
    ("银行股份有限公司", "金融"),
    ("农村商业银行股份有限公司", "金融"),
)
UNIVERSITY_KINDS = (
    "大学",
    "理工大学",
    "师范大学",
    "医科大学",
    "财经大学",
    "工业大学",
    "科技大学",
    "师范学院",
    "医学院",
    "城市学院",
)
BANKS = (
    "中国工商银行股份有限公司",
    "中国农业银行股份有限公司",
    "中国银行股份有限公司",
    "中国建设银行股份有限公司",
    "交通银行股份有限公司",
    "招商银行股份有限公司",
    "中信银行股份有限公司",
    "兴业银行股份有限公司",
    "上海浦东发展银行股份有限公司",
    "中国民生银行股份有限公司",
    "平安银行股份有限公司",
    "中国邮政储蓄银行股份有限公司",
)
CARRIER_BRANCHES = (
    "中国电信股份有限公司{city}分公司",
    "中国联合网络通信有限公司{city}市分公司",
    "中国移动通信集团{province}有限公司{city}分公司",
    "国网{province}省电力有限公司{city}供电公司",
)
NUMERALS = "一二三四五六七八九十"

# --- Hong Kong, Macau, Taiwan ---------------------------------------------------------

GREATER_CHINA = ("香港", "香港", "香港", "澳门", "台北", "新竹", "台中", "高雄")

# --- English ---------------------------------------------------------------------------

_PINYIN = (
    "heng da rui xin tian cheng xing ye shun fa an tai hong jia de run long ji yuan hang hua "
    "bo zhi lian chuang ke sheng ding hui hai feng ming zheng zhong jin yin yu chen yun qi fei "
    "yang tong li rong zhuo yue kai hao ze han yi nuo wei lan guang"
).split()
_LATIN_HEADS = (
    "Nova Bright Blue Silver Green Clear Prime Vertex Quantum Apex Summit Crystal Stellar Titan "
    "Orion Aurora Delta Sigma Omni Pacific Atlas Vector Zenith Horizon Evergreen Northstar "
    "Redwood Falcon Harbor Meridian Pioneer Sapphire Cobalt Granite Helix Lumen Nexus"
).split()
_LATIN_TAILS = (
    "wave point stone field bridge gate path core link tech logic soft sys tron matic view "
    "line scale works net cast mark forge grid"
).split()
EN_INDUSTRIES = (
    "Technology",
    "Technologies",
    "Electronics",
    "Semiconductor",
    "Software",
    "Information Technology",
    "Network Technology",
    "Data Services",
    "Logistics",
    "Trading",
    "Medical Devices",
    "Pharmaceutical",
    "Automotive Parts",
    "Precision Machinery",
    "Industrial",
    "Chemical",
    "New Materials",
    "Energy",
    "Consulting",
    "Supply Chain Management",
    "Biotech",
    "Instruments",
)
EN_LEGAL_FORMS = (
    ("Co., Ltd.", 50),
    ("Co., Limited", 10),
    ("Company Limited", 10),
    ("Limited", 10),
    ("Inc.", 8),
    ("Corporation", 5),
    ("GmbH", 4),
    ("Pte. Ltd.", 3),
)


@dataclass(frozen=True)
class CustomerName:
    name: str
    industry: str
    province: str  # the customer's province (canonical short name), for the region column
    kind: str  # company, branch, public, state, university, bank, carrier, greater_china, english
    public: bool = False  # public bodies carry credit codes of their own kind, most companies too


def _weighted(rng: random.Random, table):
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights=weights)[0]


class NameFactory:
    """Draws customer names; a seeded ``random.Random`` makes the data set reproducible."""

    # Share of each kind among customers (public sector is a large share of an IT vendor's
    # customers in China: government, health, education).
    KINDS = (
        ("company", 51),
        ("company_bracket_region", 6),
        ("branch", 3),
        ("public_city", 12),
        ("public_district", 7),
        ("public_province", 1.5),
        ("tax", 1.5),
        ("state", 3),
        ("university", 1.5),
        ("bank", 3),
        ("carrier", 1.5),
        ("greater_china", 3),
        ("english_chinese", 3),
        ("english_foreign", 3),
    )

    def __init__(self, rng: random.Random):
        self.rng = rng

    def city(self) -> str:
        return self.rng.choices(CITIES, weights=CITY_WEIGHTS)[0]

    def _city_prefix(self, city: str) -> str:
        # Company names write the city with or without 市 (both are registered forms).
        if city in _regions.AMBIGUOUS_SHORT_NAMES or self.rng.random() < 0.35:
            return city + "市"
        return city

    def brand(self) -> str:
        n = 3 if self.rng.random() < 0.15 else 2
        return "".join(self.rng.sample(_BRAND_CHARS, n))

    def province_full(self, province: str) -> str:
        return province + PROVINCE_SUFFIX.get(province, "省")

    def draw(self) -> CustomerName:
        rng = self.rng
        kind = _weighted(rng, self.KINDS)
        city = self.city()
        province = _CITY_PROVINCE[city]
        if kind == "company":
            industry, sector = rng.choice(CN_INDUSTRIES)
            legal = _weighted(rng, CN_LEGAL_FORMS)
            where = rng.random()
            if where < 0.70:
                prefix = self._city_prefix(city)
            elif where < 0.85:
                prefix = self.province_full(province) if rng.random() < 0.3 else province
                if province in MUNICIPALITIES:
                    prefix = city
            else:
                prefix = ""
            return CustomerName(f"{prefix}{self.brand()}{industry}{legal}", sector, province, kind)
        if kind == "company_bracket_region":
            industry, sector = rng.choice(CN_INDUSTRIES)
            legal = _weighted(rng, CN_LEGAL_FORMS[:3])
            bracket = ("(", ")") if rng.random() < 0.5 else ("（", "）")
            name = f"{self.brand()}{industry}{bracket[0]}{city}{bracket[1]}{legal}"
            return CustomerName(name, sector, province, "company")
        if kind == "branch":
            industry, sector = rng.choice(CN_INDUSTRIES)
            home = self.city()
            name = f"{self._city_prefix(home)}{self.brand()}{industry}股份有限公司{city}分公司"
            return CustomerName(name, sector, province, kind)
        if kind == "public_city":
            body, sector = rng.choice(CITY_BODIES)
            body = body.format(n=rng.choice(NUMERALS[: 9 if "医院" in body else 10]))
            prefix = city + "市" if rng.random() < 0.85 or body[0] == "市" else city
            if province not in MUNICIPALITIES and rng.random() < 0.1:
                prefix = self.province_full(province) + city + "市"
            return CustomerName(f"{prefix}{body}", sector, province, kind, public=True)
        if kind == "public_district":
            body, sector = rng.choice(DISTRICT_BODIES)
            body = body.format(n=rng.choice(NUMERALS))
            district = rng.choice(DISTRICTS) + ("区" if rng.random() < 0.6 else "县")
            return CustomerName(f"{city}市{district}{body}", sector, province, kind, public=True)
        if kind == "public_province":
            body, sector = rng.choice(PROVINCE_BODIES)
            prefix = self.province_full(province) if province not in MUNICIPALITIES else city + "市"
            return CustomerName(f"{prefix}{body}", sector, province, kind, public=True)
        if kind == "tax":
            if rng.random() < 0.5:
                name = f"国家税务总局{city}市税务局"
            else:
                name = f"国家税务总局{city}市{rng.choice(DISTRICTS)}区税务局"
            return CustomerName(name, "政府", province, kind, public=True)
        if kind == "state":
            group, sector = rng.choice(STATE_GROUPS)
            return CustomerName(f"{self._city_prefix(city)}{group}", sector, province, kind)
        if kind == "university":
            school = rng.choice(UNIVERSITY_KINDS)
            return CustomerName(f"{city}{school}", "教育", province, kind, public=True)
        if kind == "bank":
            bank = rng.choice(BANKS)
            if rng.random() < 0.4:
                branch = f"{city}分行"
            else:
                branch = f"{city}{rng.choice(DISTRICTS)}支行"
            return CustomerName(f"{bank}{branch}", "金融", province, kind)
        if kind == "carrier":
            template = rng.choice(CARRIER_BRANCHES)
            if province in MUNICIPALITIES:
                template = template.replace("{province}省", "{province}市")
            name = template.format(city=city, province=province)
            return CustomerName(name, "运营商", province, kind)
        if kind == "greater_china":
            place = rng.choice(GREATER_CHINA)
            industry, sector = rng.choice(CN_INDUSTRIES)
            legal = "股份有限公司" if place in ("台北", "新竹", "台中", "高雄") else "有限公司"
            name = to_traditional(f"{place}{self.brand()}{industry}{legal}")
            region = {"台北": "台湾", "新竹": "台湾", "台中": "台湾", "高雄": "台湾"}
            return CustomerName(name, sector, region.get(place, place), kind)
        if kind == "english_chinese":
            industry = rng.choice(EN_INDUSTRIES)
            legal = _weighted(rng, EN_LEGAL_FORMS[:4])
            brand = "".join(rng.sample(_PINYIN, 2)).title()
            english_city = CITY_ENGLISH.get(city)
            if english_city is None:
                city, english_city = rng.choice(list(CITY_ENGLISH.items()))
                province = _CITY_PROVINCE[city]
            return CustomerName(
                f"{english_city} {brand} {industry} {legal}", "IT", province, "english"
            )
        # english_foreign
        industry = rng.choice(EN_INDUSTRIES)
        legal = _weighted(rng, EN_LEGAL_FORMS)
        brand = rng.choice(_LATIN_HEADS) + rng.choice(_LATIN_TAILS)
        where = rng.random()
        if where < 0.4 and city in CITY_ENGLISH:
            name = f"{brand} {industry} ({CITY_ENGLISH[city]}) {legal}"
        elif where < 0.6:
            name = f"{brand} {industry} (China) {legal}"
        else:
            name = f"{brand} {industry} {legal}"
        return CustomerName(name, "IT", province, "english")

    def unique_names(self, count: int) -> list[CustomerName]:
        """``count`` customers with distinct names."""
        seen: set[str] = set()
        names: list[CustomerName] = []
        while len(names) < count:
            customer = self.draw()
            if customer.name in seen:
                continue
            seen.add(customer.name)
            names.append(customer)
        return names


# --- variants --------------------------------------------------------------------------

_CJK = re.compile(r"[\u4e00-\u9fff]")
_CITY_ALTERNATION = "|".join(sorted(map(re.escape, CITIES), key=len, reverse=True))
_LEADING_CITY = re.compile(f"^(?P<city>{_CITY_ALTERNATION})(?P<shi>市(?!场))?")
_CN_LEGAL_TAIL = re.compile("(集团股份有限公司|集团有限公司|股份有限公司|有限责任公司|有限公司)$")
_BRACKETED = re.compile(r"[(（](?P<region>[^()（）]+)[)）]")
_EN_LEGAL = (
    ("Co., Ltd.", ("Co.,Ltd.", "CO., LTD", "Company Limited", "Co. Ltd", "co.,ltd")),
    ("Co., Limited", ("Co., Ltd.", "Company Limited", "CO LIMITED")),
    ("Company Limited", ("Co., Ltd.", "Co., Limited", "COMPANY LIMITED")),
    ("Limited", ("Ltd.", "Ltd", "LIMITED")),
    ("Inc.", ("Inc", "Incorporated", "INC.")),
    ("Corporation", ("Corp.", "Corp")),
    ("Pte. Ltd.", ("Pte Ltd", "PTE. LTD.")),
)


def _traditional_part(name: str, rng: random.Random) -> str | None:
    # A partner on a traditional-character system, or one who copied part of the name from a
    # Hong Kong or Taiwan document: convert a stretch of at least half the name.
    if not _CJK.search(name):
        return None
    size = max(2, len(name) // 2 + rng.randint(0, len(name) // 2))
    start = rng.randint(0, max(0, len(name) - size))
    variant = name[:start] + to_traditional(name[start : start + size]) + name[start + size :]
    return variant if variant != name else to_traditional(name)


def _region_moved(name: str, rng: random.Random) -> str | None:
    bracketed = _BRACKETED.search(name)
    if bracketed and _CJK.search(bracketed.group("region")):
        # 恒达科技(杭州)有限公司 -> 杭州恒达科技有限公司 (中山市..., never a bare 中山...)
        region = bracketed.group("region")
        if _T2S.convert(region) in _regions.AMBIGUOUS_SHORT_NAMES:
            region += "市"
        rest = name[: bracketed.start()] + name[bracketed.end() :]
        return region + rest
    match = _LEADING_CITY.match(name)
    if not match:
        return None
    rest = name[match.end() :]
    legal = _CN_LEGAL_TAIL.search(rest)
    if match.group("city") in _regions.AMBIGUOUS_SHORT_NAMES:
        return None
    if legal and legal.start() > 1:
        # 杭州恒达科技有限公司 -> 恒达科技(杭州)有限公司
        return f"{rest[: legal.start()]}({match.group('city')}){legal.group()}"
    # Public bodies: 杭州市公安局 -> 杭州公安局, 杭州公安局 -> 浙江省杭州市公安局.
    city = match.group("city")
    if city in _regions.AMBIGUOUS_SHORT_NAMES:
        return None  # 大同大学, 中山大学: the matcher rightly keeps a bare 大同 in the name
    if match.group("shi"):
        return None if rest.startswith("市") else city + rest
    province = _CITY_PROVINCE.get(city)
    if province and province != city and rng.random() < 0.5:
        return f"{province}{PROVINCE_SUFFIX.get(province, '省')}{city}市{rest}"
    return None if match.group("shi") else f"{city}市{rest}"


def _full_width(name: str, rng: random.Random) -> str | None:
    if "(" in name:
        return name.replace("(", "（").replace(")", "）")
    if "（" in name:
        return name.replace("（", "(").replace("）", ")")
    moved = _region_moved(name, rng)
    if moved and "(" in moved:
        return moved.replace("(", "（").replace(")", "）")
    return None


def _legal_form(name: str, rng: random.Random) -> str | None:
    for old, new in LEGAL_SWAPS:
        if name.endswith(old):
            return name[: -len(old)] + new
    for old, news in _EN_LEGAL:
        if name.endswith(old):
            return name[: -len(old)] + rng.choice(news)
    return None


def _english_case(name: str, rng: random.Random) -> str | None:
    if _CJK.search(name) or not re.search(r"[A-Za-z]", name):
        return None
    choice = rng.random()
    if choice < 0.4:
        return name.upper()
    if choice < 0.6:
        return name.lower()
    if choice < 0.8:
        # Punctuation dropped, spacing changed.
        return re.sub(r"\s+", "  ", re.sub(r"[.,]", "", name))
    # The English region moved: "X (Shanghai) Co., Ltd." -> "Shanghai X Co., Ltd.".
    bracketed = _BRACKETED.search(name)
    if bracketed and bracketed.group("region") != "China":
        rest = (name[: bracketed.start()] + name[bracketed.end() :]).replace("  ", " ")
        return f"{bracketed.group('region')} {rest}"
    return name.upper()


def _spacing(name: str, rng: random.Random) -> str | None:
    # A space after the region or before the legal form, as people type them.
    legal = _CN_LEGAL_TAIL.search(name)
    city = _LEADING_CITY.match(name)
    if legal and legal.start() > 0 and (city is None or rng.random() < 0.5):
        return f"{name[: legal.start()]} {legal.group()}"
    if city and city.end() < len(name):
        return f"{name[: city.end()]} {name[city.end() :]}"
    return None


VARIANTS = {
    "traditional": _traditional_part,
    "region_moved": _region_moved,
    "full_width_brackets": _full_width,
    "legal_form": _legal_form,
    "english_case_punctuation": _english_case,
    "spacing": _spacing,
}
_WEIGHTS = {
    "traditional": 3,
    "region_moved": 3,
    "full_width_brackets": 2,
    "legal_form": 3,
    "english_case_punctuation": 4,
    "spacing": 1,
}


def name_variant(name: str, rng: random.Random) -> tuple[str, list[str]]:
    """Another spelling of the same customer (one to three changes) and what was changed."""
    wanted = rng.choice((1, 1, 2, 2, 3))
    kinds = list(VARIANTS)
    applied: list[str] = []
    variant = name
    for _ in range(10):
        if len(applied) >= wanted:
            break
        candidates = [k for k in kinds if k not in applied]
        if not candidates:
            break
        kind = rng.choices(candidates, weights=[_WEIGHTS[k] for k in candidates])[0]
        changed = VARIANTS[kind](variant, rng)
        if changed and changed != variant:
            variant = changed
            applied.append(kind)
        else:
            kinds.remove(kind)
    if variant == name:
        variant, applied = name + " ", ["spacing"]
    return variant, applied
