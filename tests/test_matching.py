"""Tests for the customer-name matching rule (customers.matching).

Pure unit tests: no app, no database.  The reference pairs are read from
``customer_name_pairs.tsv`` and ``customer_name_kinds.tsv`` in ``tests/data``
(or ``$SHARED_DATA_DIR`` when set, to try another list of the same columns).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from customers import regions
from customers.matching import (
    LATIN_FUZZY_MIN_LENGTH,
    MatchVerdict,
    NormalizedName,
    candidate_ngrams,
    compare_customer_names,
    name_search_key,
    normalize_customer_name,
    suggestion_grams,
)

PAIRS_FILE_NAME = "customer_name_pairs.tsv"
KINDS_FILE_NAME = "customer_name_kinds.tsv"


def shared_pairs_file(file_name: str = PAIRS_FILE_NAME) -> Path:
    override = os.environ.get("SHARED_DATA_DIR")
    if override:
        return Path(override) / file_name
    return Path(__file__).resolve().parent / "data" / file_name


def _shared_pair_params() -> list:
    path = shared_pairs_file()
    if not path.is_file():
        # Fail loudly (one failing case) rather than silently testing nothing.
        return [pytest.param(None, id="missing-pairs-file")]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        pytest.param(row, id=f"{i:02d}-{row['why']}")
        for i, row in enumerate(rows, start=2)  # line number in the file
    ]


@pytest.mark.parametrize("row", _shared_pair_params())
def test_shared_reference_pairs(row):
    assert row is not None, f"reference pairs file not found: {shared_pairs_file()}"
    expected = row["same"].strip() == "1"
    verdict = compare_customer_names(row["name_a"], row["name_b"])
    assert verdict.same is expected, (row["why"], verdict.evidence())
    # The rule must not depend on argument order.
    assert compare_customer_names(row["name_b"], row["name_a"]).same is expected


def _kind_params() -> list:
    path = shared_pairs_file(KINDS_FILE_NAME)
    if not path.is_file():
        return [pytest.param(None, id="missing-kinds-file")]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [pytest.param(row, id=f"{i:03d}-{row['kind']}") for i, row in enumerate(rows, start=2)]


@pytest.mark.parametrize("row", _kind_params())
def test_reference_pairs_by_kind_get_their_verdict(row):
    """customer_name_kinds.tsv: 100 pairs, 5 of each kind, labelled same/possible/different."""
    assert row is not None, f"reference file not found: {shared_pairs_file(KINDS_FILE_NAME)}"
    verdict = compare_customer_names(row["name_a"], row["name_b"])
    assert verdict.verdict == row["label"], (row["kind"], verdict.evidence())
    assert compare_customer_names(row["name_b"], row["name_a"]).verdict == row["label"]


def test_shared_pairs_file_location_can_be_overridden(monkeypatch, tmp_path):
    monkeypatch.setenv("SHARED_DATA_DIR", str(tmp_path))
    assert shared_pairs_file() == tmp_path / PAIRS_FILE_NAME
    monkeypatch.delenv("SHARED_DATA_DIR")
    assert shared_pairs_file().parts[-3:] == ("tests", "data", PAIRS_FILE_NAME)


# ---------------------------------------------------------------------------
# Pairs of our own, by kind.  (a, b, kind)
# ---------------------------------------------------------------------------

SAME_PAIRS = [
    # region as prefix vs in brackets (Chinese and English, with suffixes)
    ("深圳市腾讯计算机系统有限公司", "腾讯计算机系统(深圳)有限公司", "prefix-vs-bracket"),
    # a city ending in 州 before a name starting with 立: 兰州 + 立宇, not a "municipal" 州立
    ("兰州立宇实业有限公司", "立宇实业(兰州)有限公司", "prefix-vs-bracket"),
    ("杭州立信会计服务有限公司", "立信会计服务（杭州）有限公司", "prefix-vs-bracket"),
    (
        "杭州海康威视数字技术股份有限公司",
        "海康威视数字技术（杭州）股份有限公司",
        "prefix-vs-bracket",
    ),
    ("北京字节跳动科技有限公司", "字节跳动科技（北京）有限公司", "prefix-vs-bracket"),
    ("联想(北京)有限公司", "北京联想有限公司", "prefix-vs-bracket"),
    ("烽火星空通信发展（南京市）有限公司", "南京烽火星空通信发展有限公司", "prefix-vs-bracket"),
    ("华星科技（中国·深圳）有限公司", "深圳华星科技有限公司", "prefix-vs-bracket"),
    ("华艺灯饰(中山)有限公司", "中山市华艺灯饰有限公司", "prefix-vs-bracket"),
    ("广东中山华艺灯饰有限公司", "华艺灯饰(中山)有限公司", "prefix-vs-bracket"),
    (
        "Acme Trading (Shenzhen) Co., Ltd.",
        "Shenzhen Acme Trading Company Limited",
        "prefix-vs-bracket",
    ),
    (
        "Hangzhou Hikvision Digital Technology Co., Ltd.",
        "Hikvision Digital Technology (Hangzhou) Co Ltd",
        "prefix-vs-bracket",
    ),
    ("Acme Trading (HK) Limited", "Acme Trading (Hong Kong) Ltd", "prefix-vs-bracket"),
    ("Acme Trading (Hong Kong SAR) Limited", "Hongkong Acme Trading Ltd", "prefix-vs-bracket"),
    # traditional characters
    ("華為技術有限公司", "华为技术有限公司", "traditional"),
    ("臺灣積體電路製造股份有限公司", "台湾积体电路制造股份有限公司", "traditional"),
    ("廣州市第一人民醫院", "广州市第一人民医院", "traditional"),
    ("中國銀行股份有限公司", "中国银行", "traditional"),
    ("聯想（北京）有限公司", "联想(北京)有限公司", "traditional"),
    ("香港中文大學", "香港中文大学", "traditional"),
    ("臺北市政府", "台北市政府", "traditional"),
    ("瀋陽機床（集團）有限責任公司", "沈阳机床集团有限责任公司", "traditional"),
    # province and/or 市 dropped, ordinal spelled differently
    ("江苏省南京市第十三中学", "南京十三中", "province-dropped"),
    ("广东省深圳市南山区第二实验学校", "深圳市南山区第二实验学校", "province-dropped"),
    ("湖南省长沙市第一中学", "长沙市一中", "province-dropped"),
    ("浙江省杭州第二中学", "杭州二中", "province-dropped"),
    ("浙江省杭州市西湖区人民政府", "杭州市西湖区人民政府", "province-dropped"),
    ("江苏省苏州市昆山市华星电子有限公司", "昆山华星电子有限公司", "province-dropped"),
    ("广西壮族自治区人民医院", "广西人民医院", "province-dropped"),
    ("内蒙古自治区第三医院", "内蒙古第三医院", "province-dropped"),
    ("新疆维吾尔自治区人民医院", "新疆自治区人民医院", "province-dropped"),
    ("宁夏回族自治区财政厅", "宁夏财政厅", "province-dropped"),
    ("四川省成都市第七中学", "成都七中", "ordinal-spelling"),
    ("北京市第4中学", "北京四中", "ordinal-spelling"),
    ("杭州市第１中学", "杭州第一中学", "ordinal-spelling"),
    ("南京市第11中学", "南京十一中", "ordinal-spelling"),
    ("重庆市第八中学校", "重庆八中", "ordinal-spelling"),
    ("长春市第十一高级中学", "长春十一高", "ordinal-spelling"),
    ("上海市第一〇一中学", "上海市第101中学", "ordinal-spelling"),
    # brackets: empty, full/half width, CJK brackets, 集团 and other noise
    ("新华三技术有限公司【】", "新华三技术有限公司( )", "empty-brackets"),
    ("新华三技术有限公司（　）", "新华三技术有限公司", "empty-brackets"),
    ("华为技术有限公司〔〕", "华为技术有限公司", "empty-brackets"),
    ("联想［北京］有限公司", "联想(北京)有限公司", "bracket-width"),
    ("华润（集团）有限公司", "华润集团有限公司", "group-in-brackets"),
    ("中国华能(集团)公司", "中国华能集团公司", "group-in-brackets"),
    ("中国平安保险（集团）股份有限公司", "中国平安保险集团股份有限公司", "group-in-brackets"),
    ("万科企业股份有限公司（集团）", "万科企业", "group-in-brackets"),
    ("XX科技有限公司（原YY科技有限公司）", "XX科技有限公司", "former-name-note"),
    ("星辰合伙企业（有限合伙）", "星辰合伙企业", "legal-form-in-brackets"),
    # legal forms, case, punctuation, whitespace
    ("小米科技有限责任公司", "小米科技有限公司", "legal-form"),
    ("中兴通讯股份有限公司", "中兴通讯股份公司", "legal-form"),
    ("华为 技术 有限公司", "华为技术有限公司", "whitespace"),
    ("Apple Inc.", "APPLE INCORPORATED", "english-legal-form"),
    ("Oracle Corporation", "Oracle Corp.", "english-legal-form"),
    ("H3C Technologies Co., Limited", "H3C Technology Co Ltd", "english-legal-form"),
    ("Acme Co.Ltd.", "ACME CO LTD", "english-legal-form"),
    ("The Acme Company", "Acme Co.", "english-legal-form"),
    ("Acme & Sons Trading Limited", "ACME AND SONS TRADING LTD", "english-punctuation"),
    ("Acme International Trading Co", "Acme Int'l Trading Co.", "english-abbreviation"),
    ("Microsoft (China) Co., Ltd.", "MICROSOFT CHINA CO LTD", "english-case"),
    ("Siemens Ltd., China", "SIEMENS LIMITED CHINA", "english-legal-form"),
    ("Beijing Acme Technology Co.,Ltd", "ACME TECHNOLOGIES (BEIJING) CO. LTD.", "english-case"),
    # full-width letters and digits
    ("ＩＢＭ（Ｃｈｉｎａ）Ｃｏ．，Ｌｔｄ．", "IBM (China) Co., Ltd.", "full-width"),
    ("ＡＢＣ Ｔｒａｄｉｎｇ Ｃｏ．，Ｌｔｄ．", "ABC Trading Co., Ltd.", "full-width"),
    ("Ｌｅｎｏｖｏ （Ｂｅｉｊｉｎｇ） Ｌｉｍｉｔｅｄ", "Lenovo (Beijing) Ltd.", "full-width"),
    ("３６０安全科技股份有限公司", "360安全科技股份有限公司", "full-width"),
    # branches spelled differently are still the same branch
    ("中国联合网络通信有限公司北京市分公司", "中国联合网络通信有限公司北京分公司", "same-branch"),
    ("中国工商银行股份有限公司北京海淀支行", "中国工商银行北京海淀支行", "same-branch"),
    # region words that are not regions here
    ("福建省立医院", "福建省立医院", "not-a-region"),
    ("上海市场监督管理局", "上海市市场监督管理局", "not-a-region"),
    ("中山大学", "中山大学", "not-a-region"),
    # region on one side only is set aside
    ("深圳市南山区人民医院", "南山区人民医院", "one-sided-region"),
    ("北京中科软件有限公司", "中科软件有限公司", "one-sided-region"),
    # a one-letter typo in a long Latin-script name
    ("International Business Machines", "International Busines Machines", "latin-typo"),
]

DIFFERENT_PAIRS = [
    # different regions, as prefix or in brackets
    ("山东大学", "山西大学", "region_differs"),
    ("湖南省人民医院", "湖北省人民医院", "region_differs"),
    ("广东省财政厅", "广西壮族自治区财政厅", "region_differs"),
    ("陕西省财政厅", "山西省财政厅", "region_differs"),
    ("北京理工大学", "南京理工大学", "region_differs"),
    ("西安交通大学", "上海交通大学", "region_differs"),
    ("联想(北京)有限公司", "联想(上海)有限公司", "region_differs"),
    ("南京烽火星空通信发展有限公司", "烽火星空通信发展(武汉)有限公司", "region_differs"),
    ("浙江省杭州市第一中学", "浙江省宁波市第一中学", "region_differs"),
    ("杭州第一中学", "宁波第一中学", "region_differs"),
    ("北京市朝阳区人民法院", "北京市海淀区人民法院", "region_differs"),
    ("Acme Trading (Shanghai) Co., Ltd.", "Acme Trading (Beijing) Co., Ltd.", "region_differs"),
    ("Acme Trading (Shenzhen) Limited", "Acme Trading (Macau) Limited", "region_differs"),
    ("Guangzhou Acme Trading Co Ltd", "Acme Trading (Hong Kong) Co Ltd", "region_differs"),
    ("臺北市政府", "高雄市政府", "region_differs"),
    # same place, different administrative level
    ("浙江省人民医院", "杭州市人民医院", "region_level_differs"),
    ("深圳市南山区人民医院", "深圳市人民医院", "region_level_differs"),
    (
        "Acme Trading (Shenzhen) Co., Ltd.",
        "Acme Trading (Guangdong) Co., Ltd.",
        "region_level_differs",
    ),
    ("江苏省昆山市华星电子有限公司", "苏州华星电子有限公司", "region_level_differs"),
    # ordinals
    ("杭州第二中学", "杭州第十二中学", "ordinal_differs"),
    ("杭州一中", "杭州二中", "ordinal_differs"),
    ("成都七中", "成都九中", "ordinal_differs"),
    ("深圳市第二人民医院", "深圳市人民医院", "ordinal_differs"),
    ("上海第二工业大学", "上海第一工业大学", "ordinal_differs"),
    ("中国人民解放军第三〇一医院", "中国人民解放军第三〇二医院", "ordinal_differs"),
    ("广州市第1人民医院", "广州市第2人民医院", "ordinal_differs"),
    # branches and sub-units
    ("华为技术有限公司", "华为技术有限公司北京分公司", "branch_differs"),
    ("中国建设银行北京分行", "中国建设银行上海分行", "branch_differs"),
    ("中国建设银行北京市分行", "中国建设银行北京海淀支行", "branch_differs"),
    ("广州市公安局", "广州市公安局天河区分局", "branch_differs"),
    ("上海市第一人民医院", "上海市第一人民医院分院", "branch_differs"),
    ("南京市第一医院", "南京市第一医院江北分院", "branch_differs"),
    ("中国联合网络通信集团有限公司", "中国联合网络通信有限公司河南省分公司", "branch_differs"),
    ("某某咨询有限公司", "某某咨询有限公司上海代表处", "branch_differs"),
    ("中信证券股份有限公司", "中信证券股份有限公司北京营业部", "branch_differs"),
    ("Acme Trading Co., Ltd.", "Acme Trading Co., Ltd. Beijing Branch", "branch_differs"),
    # a region inside the name: provincial subsidiary
    ("中国移动通信集团有限公司", "中国移动通信集团江苏有限公司", "inner_region_differs"),
    ("中国联合网络通信集团有限公司", "中国联合网络通信集团广东有限公司", "inner_region_differs"),
    ("中国移动通信集团浙江有限公司", "中国移动通信集团福建有限公司", "inner_region_differs"),
    ("Bank of Beijing", "Bank of Shanghai", "inner_region_differs"),
    ("Shanghai Acme Trading Co Ltd", "Acme Trading Shanghai Co Ltd", "inner_region_differs"),
    # one character / shared words
    ("福建省人民医院", "福建医科大学附属第一医院", None),
    ("浙江省人民医院", "浙江省中医院", "fuzzy_below_threshold"),
    ("南京大学", "东南大学", "fuzzy_below_threshold"),
    ("北京大学", "北京师范大学", "fuzzy_below_threshold"),
    ("清华大学", "华清大学", "fuzzy_below_threshold"),
    ("武汉大学", "武汉理工大学", "fuzzy_below_threshold"),
    ("中国人民大学", "中国人民银行", "fuzzy_below_threshold"),
    ("中兴通讯股份有限公司", "中兴通信股份有限公司", "trade_differs"),
    ("华为技术有限公司", "华为终端有限公司", "fuzzy_below_threshold"),
    ("中国银行", "中国农业银行", "fuzzy_below_threshold"),
    ("交通银行", "中国交通银行", "fuzzy_below_threshold"),
    ("中国石油天然气股份有限公司", "中国石油化工股份有限公司", "fuzzy_below_threshold"),
    ("首都医科大学附属北京朝阳医院", "首都医科大学附属北京同仁医院", "fuzzy_below_threshold"),
    ("Microsoft Corporation", "Microsoft China Co Ltd", "fuzzy_below_threshold"),
    ("Alpha Technologies Ltd", "Alpha Technical Ltd", "fuzzy_below_threshold"),
    ("Acme Holdings Limited", "Acme Trading Limited", "fuzzy_below_threshold"),
    (
        "Global Logistics Unit 1 International Ltd",
        "Global Logistics Unit 2 International Ltd",
        None,
    ),
    ("Northern Lights Technology", "Southern Lights Technology", "fuzzy_below_threshold"),
    ("Pacific Trading Corporation", "Pacific Trade Corporation", "fuzzy_below_threshold"),
    # nothing left to compare
    ("有限公司", "有限公司", "empty_name"),
    ("", "华为技术有限公司", "empty_name"),
]


@pytest.mark.parametrize(
    ("name_a", "name_b"),
    [pytest.param(a, b, id=f"{kind}:{a}|{b}") for a, b, kind in SAME_PAIRS],
)
def test_same_customer(name_a, name_b):
    verdict = compare_customer_names(name_a, name_b)
    assert verdict.same, verdict.evidence()
    assert compare_customer_names(name_b, name_a).same


@pytest.mark.parametrize(
    ("name_a", "name_b", "rule"),
    [pytest.param(a, b, rule, id=f"{rule}:{a}|{b}") for a, b, rule in DIFFERENT_PAIRS],
)
def test_different_customer(name_a, name_b, rule):
    verdict = compare_customer_names(name_a, name_b)
    assert not verdict.same, verdict.evidence()
    if rule is not None:
        assert verdict.rule == rule, verdict.evidence()
    assert not compare_customer_names(name_b, name_a).same


def test_identical_names_are_the_same_customer():
    for a, b, _ in SAME_PAIRS + DIFFERENT_PAIRS:
        for name in (a, b):
            if name_search_key(name):
                assert compare_customer_names(name, name).same, name


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "core", "regions_found", "ordinals"),
    [
        ("浙江省杭州市第一中学", "一中", ("浙江", "杭州"), ("一",)),
        ("杭州第一中学", "一中", ("杭州",), ("一",)),
        ("广西壮族自治区人民医院", "人民医院", ("广西",), ()),
        ("南京烽火星空通信发展有限公司", "烽火星空通信发展", ("南京",), ()),
        ("烽火星空通信发展(南京)有限公司", "烽火星空通信发展", ("南京",), ()),
        ("Acme Trading (Hong Kong) Limited", "acmetrading", ("香港",), ()),
        ("深圳市南山区第二实验学校", "第二实验学校", ("深圳", "南山"), ("二",)),
        ("上海市浦东新区人民医院", "人民医院", ("上海", "浦东"), ()),
        ("南京市第二医院", "第二医院", ("南京",), ("二",)),
        ("成都七中", "七中", ("成都",), ("七",)),
        ("北京市第4中学", "四中", ("北京",), ("四",)),
        ("中国平安保险（集团）股份有限公司", "中国平安保险", (), ()),
        ("ＩＢＭ China Company Limited", "ibmchina", (), ()),
        ("中山大学", "中山大学", (), ()),
        ("阿里巴巴（中国）有限公司", "阿里巴巴中国", (), ()),
        ("福建省立医院", "省立医院", ("福建",), ()),
        ("北京市", "北京", ("北京",), ()),
    ],
)
def test_normalize_customer_name(name, core, regions_found, ordinals):
    norm = normalize_customer_name(name)
    assert isinstance(norm, NormalizedName)
    assert norm.original == name
    assert norm.core == core
    assert norm.regions == regions_found
    assert norm.ordinals == ordinals


def test_inner_region_and_branch_are_recorded_and_kept_in_core():
    unicom_henan = normalize_customer_name("中国联合网络通信集团河南有限公司")
    assert unicom_henan.core == "中国联合网络通信河南"
    assert unicom_henan.regions == ()
    assert unicom_henan.inner_regions == ("河南",)

    branch = normalize_customer_name("深圳市公安局南山分局")
    assert branch.regions == ("深圳",)
    assert branch.branch == "南山分局"
    assert branch.core == "公安局南山分局"

    # 河南省分公司 and 河南分公司 are the same branch.
    assert normalize_customer_name("中国联通河南省分公司").branch == "河南分公司"


def test_region_canonical_forms():
    for full, short in [
        ("浙江省", "浙江"),
        ("杭州市", "杭州"),
        ("广西壮族自治区", "广西"),
        ("内蒙古自治区", "内蒙古"),
        ("新疆维吾尔自治区", "新疆"),
        ("香港特别行政区", "香港"),
        ("延边朝鲜族自治州", "延边"),
        ("大兴安岭地区", "大兴安岭"),
        ("锡林郭勒盟", "锡林郭勒"),
        ("重庆市", "重庆"),
    ]:
        assert normalize_customer_name(f"{full}测试有限公司").regions == (short,), full
        assert normalize_customer_name(f"测试有限公司（{full}）").regions == (short,), full


def test_ambiguous_place_names_need_a_suffix_or_context():
    assert normalize_customer_name("阿里巴巴集团").regions == ()
    assert normalize_customer_name("普洱茶业有限公司").regions == ()
    assert normalize_customer_name("中山市华艺灯饰有限公司").regions == ("中山",)
    assert normalize_customer_name("华艺灯饰（中山）有限公司").regions == ("中山",)
    assert normalize_customer_name("广东中山华艺灯饰有限公司").regions == ("广东", "中山")


def test_functional_zones_are_not_districts():
    assert normalize_customer_name("深圳市高新区管理委员会").regions == ("深圳",)
    assert normalize_customer_name("苏州工业园区管理委员会").regions == ("苏州",)


def test_name_search_key_is_the_core():
    for name in ("南京烽火星空通信发展有限公司", "H3C Technologies Co., Limited", "中興通訊"):
        assert name_search_key(name) == normalize_customer_name(name).core
    assert name_search_key("南京烽火星空通信发展有限公司") == name_search_key(
        "烽火星空通信发展（南京）有限公司"
    )
    assert name_search_key("") == ""


def test_candidate_ngrams():
    assert candidate_ngrams("烽火星空") == {"烽火", "火星", "星空"}
    assert candidate_ngrams("烽火星空", 3) == {"烽火星", "火星空"}
    assert candidate_ngrams("一中") == {"一中"}
    assert candidate_ngrams("中") == {"中"}
    assert candidate_ngrams("") == set()
    with pytest.raises(ValueError):
        candidate_ngrams("abc", 0)


# ---------------------------------------------------------------------------
# USCC, verdict and evidence
# ---------------------------------------------------------------------------


def test_uscc_equal_decides_even_if_names_differ():
    verdict = compare_customer_names(
        "华为技术有限公司",
        "Huawei Technologies Co., Ltd.",
        "91440300708461136T",
        "91440300708461136T",
    )
    assert verdict.same and verdict.rule == "uscc_equal"


def test_uscc_formatting_is_folded():
    verdict = compare_customer_names(
        "华为技术有限公司", "华为", "９１４４０３００７０８４６１１３６ｔ", "91440300-708461136T "
    )
    assert verdict.same and verdict.rule == "uscc_equal"


def test_uscc_differs_decides_even_if_names_equal():
    verdict = compare_customer_names(
        "华为技术有限公司", "华为技术有限公司", "91440300708461136T", "91440300MA5F0XXXXX"
    )
    assert not verdict.same and verdict.rule == "uscc_differs"


@pytest.mark.parametrize(
    ("uscc_a", "uscc_b"), [("91440300708461136T", None), (None, ""), ("", " ")]
)
def test_uscc_on_one_side_only_falls_back_to_names(uscc_a, uscc_b):
    verdict = compare_customer_names("华为技术有限公司", "華為技術有限公司", uscc_a, uscc_b)
    assert verdict.same and verdict.rule == "core_equal"


def test_verdict_fields_and_evidence_are_json_serialisable():
    verdict = compare_customer_names("浙江省杭州市第一中学", "杭州一中")
    assert isinstance(verdict, MatchVerdict)
    assert verdict.same and verdict.rule == "core_equal"
    assert verdict.score == 100.0
    assert verdict.normalized_a == verdict.normalized_b == "一中"
    evidence = json.loads(json.dumps(verdict.evidence(), ensure_ascii=False))
    for key in ("same", "score", "rule", "normalized_a", "normalized_b"):
        assert evidence[key] == getattr(verdict, key)
    assert evidence["regions_a"] == ["浙江", "杭州"]
    assert evidence["regions_b"] == ["杭州"]
    assert evidence["ordinals_a"] == evidence["ordinals_b"] == ["一"]

    different = compare_customer_names("山东省财政厅", "山西省财政厅").evidence()
    assert different["rule"] == "region_differs"
    assert different["regions_a"] == ["山东"] and different["regions_b"] == ["山西"]
    assert json.dumps(different)


def test_score_is_a_rapidfuzz_percentage():
    assert compare_customer_names("北京理工大学", "北京工业大学").score == pytest.approx(75.0)
    assert 0.0 <= compare_customer_names("交通银行", "中国交通建设").score < 100.0


def test_short_cores_never_match_on_similarity():
    # A one-character change in a short core scores high but is another org.
    verdict = compare_customer_names("华东理工大学", "华南理工大学")
    assert verdict.score >= 80 and not verdict.same


def test_latin_typo_tolerance_is_limited_to_long_names():
    long_a = "Consolidated Freightways International"
    assert len(name_search_key(long_a)) >= LATIN_FUZZY_MIN_LENGTH
    assert compare_customer_names(long_a, "Consolidated Freightway International").same
    # Two edits, or a short name, or a digit: different.
    assert not compare_customer_names(long_a, "Consolidated Freighways Internationl").same
    assert not compare_customer_names("Acme Trading", "Acme Tradin").same
    assert not compare_customer_names(
        "Acme Logistics Warehouse 7", "Acme Logistics Warehouse 1"
    ).same


# ---------------------------------------------------------------------------
# Region data
# ---------------------------------------------------------------------------

PROVINCIAL_CAPITALS = (
    "石家庄 太原 呼和浩特 沈阳 长春 哈尔滨 南京 杭州 合肥 福州 南昌 济南 郑州 武汉 长沙 广州 "
    "南宁 海口 成都 贵阳 昆明 拉萨 西安 兰州 西宁 银川 乌鲁木齐 台北"
).split()


def test_region_data_is_complete():
    assert len(regions.PROVINCES) == 34
    prefectures = [name for names in regions.PREFECTURES.values() for name in names]
    assert len(prefectures) >= 290
    assert len(prefectures) == len(set(prefectures)), "a prefecture is listed twice"
    assert set(regions.PREFECTURES) <= set(regions.PROVINCES)
    for capital in PROVINCIAL_CAPITALS:
        assert capital in prefectures, capital
    # Every province-level division except the four municipalities and the
    # two SARs has prefectures.
    without = set(regions.PROVINCES) - set(regions.PREFECTURES)
    assert without == {"北京", "天津", "上海", "重庆", "香港", "澳门"}
    for canonical in regions.ENGLISH_NAMES:
        assert (
            canonical in regions.PROVINCES
            or canonical in prefectures
            or canonical in regions.COUNTY_LEVEL_CITIES
        ), canonical
    for province in regions.PROVINCES:
        assert province in regions.ENGLISH_NAMES, province
    for name, parents in regions.COUNTY_LEVEL_CITIES.items():
        assert parents[0] in regions.PROVINCES, name
        if len(parents) > 1:
            assert parents[1] in regions.PREFECTURES[parents[0]], name


def test_region_aliases_do_not_clash():
    owner: dict[str, str] = {}
    clashes = []

    def add(alias: str, canonical: str) -> None:
        if owner.setdefault(alias, canonical) != canonical:
            clashes.append((alias, owner[alias], canonical))

    for province, full_forms in regions.PROVINCES.items():
        for alias in (province, *full_forms):
            add(alias, province)
    for names in regions.PREFECTURES.values():
        for name in names:
            for alias in (name, name + "市", *regions.PREFECTURE_FULL_NAMES.get(name, ())):
                add(alias, name)
    for name in regions.COUNTY_LEVEL_CITIES:
        add(name, name)
        add(name + "市", name)
    assert not clashes


def test_division_list_is_complete():
    divisions = regions.load_divisions()
    by_level: dict[str, list[str]] = {}
    for division in divisions:
        by_level.setdefault(division.level, []).append(division.name)
    assert len(by_level["province"]) == 34
    assert 330 <= len(by_level["prefecture"]) <= 340
    assert len(by_level["county"]) >= 2800
    codes = {d.code for d in divisions}
    assert all(d.parent in codes for d in divisions if d.level != "province")
    for name in ("南山区", "雨花区", "曲周县", "和林格尔县", "景宁畲族自治县", "长白朝鲜族自治县"):
        assert name in by_level["county"], name
    assert "source" in regions.divisions_source() and "2023" in regions.divisions_source()


def test_every_prefecture_of_the_list_is_a_region():
    for division in regions.load_divisions():
        if division.level == "prefecture":
            assert normalize_customer_name(f"{division.name}测试有限公司").regions, division.name


@pytest.mark.parametrize(
    ("name", "regions_found", "core"),
    [
        ("深圳市南山区慕舍电子有限公司", ("深圳", "南山"), "慕舍电子"),
        ("长沙市雨花区慕舍电子有限公司", ("长沙", "雨花"), "慕舍电子"),
        ("曲周县人民医院", ("曲周",), "人民医院"),
        ("呼和浩特市和林格尔县中医医院", ("呼和浩特", "和林格尔"), "中医医院"),
        ("丽水市景宁畲族自治县公安局", ("丽水", "景宁"), "公安局"),
        ("长白朝鲜族自治县人民医院", ("长白",), "人民医院"),
        ("邯郸市立昂物流有限公司", ("邯郸",), "立昂物流"),
        ("福建省立医院", ("福建",), "省立医院"),
        ("杭州市立第一人民医院", ("杭州",), "市立第一人民医院"),
        ("长春市政务服务数据管理局", ("长春",), "政务服务数据管理局"),
        ("中山慕舍电子有限公司", (), "中山慕舍电子"),
    ],
)
def test_regions_from_the_national_list_are_read(name, regions_found, core):
    norm = normalize_customer_name(name)
    assert (norm.regions, norm.core) == (regions_found, core)


def test_county_names_shared_by_several_cities_do_not_make_places_equal():
    for a, b in [
        ("南京市鼓楼区人民医院", "福州市鼓楼区人民医院"),
        ("北京市朝阳区慕舍科技有限公司", "长春市朝阳区慕舍科技有限公司"),
        ("北京市朝阳区慕舍科技有限公司", "朝阳市慕舍科技有限公司"),
    ]:
        assert compare_customer_names(a, b).verdict == "different", (a, b)
    # Without its city, a shared name is placed by the other name.
    assert compare_customer_names("鼓楼区人民医院", "福州市鼓楼区人民医院").same


@pytest.mark.parametrize("city", ["中山", "白银", "北海", "朝阳", "广安", "通化", "金昌", "来宾"])
def test_ambiguous_city_names_are_regions_when_the_other_name_says_so(city):
    assert compare_customer_names(f"{city}慕舍电子", f"慕舍电子({city})").same
    assert compare_customer_names(f"{city}慕舍电子有限公司", f"{city}市慕舍电子有限公司").same
    # Another city at the same level: two companies.
    assert compare_customer_names(f"{city}慕舍电子", "渭南慕舍电子").verdict == "different"


def test_ambiguous_city_names_stay_in_the_name_otherwise():
    assert normalize_customer_name("中山大学").core == "中山大学"
    assert normalize_customer_name("北京朝阳医院").core == "朝阳医院"
    assert compare_customer_names("中卫慕舍电子有限公司", "中卫市慕舍电子有限公司").same
    assert not compare_customer_names("中山大学", "广州中山大学附属医院").same


POSSIBLE_PAIRS = [
    ("海康威视", "杭州海康威视数字技术股份有限公司", "short_name"),
    ("卡拉多", "乌兰察布卡拉多数字技术有限责任公司", "short_name"),
    ("宣城闽新", "宣城闽新交通建设股份有限公司", "short_name"),
    ("西门子（中国）有限公司", "西门子有限公司", "short_name"),
    ("格式塔电子", "山东省日照市格式塔电子股份有限公司", "short_name_region_dropped"),
    ("海康威视技术", "杭州海康威视数字技术股份有限公司", "trade_words_shortened"),
    ("腾迅", "腾讯", "homophone_typo"),
    ("汇康圆", "汇康园", "homophone_typo"),
    ("乐美十", "乐美仕", "homophone_typo"),
    ("腾迅", "深圳市腾讯计算机系统有限公司", "homophone_typo"),
    ("腾迅计算机", "深圳市腾讯计算机系统有限公司", "homophone_typo"),
    ("慕舍星辰电子有限公司", "慕舍辰电子有限公司", "char_added_or_dropped"),
    ("慕舍星辰电子有限公司", "慕星舍辰电子有限公司", "chars_transposed"),
    ("北京市海淀区慕舍科技有限公司", "慕舍科技(北京)有限公司", "region_level_differs"),
    ("深圳市南山区慕舍科技有限公司", "深圳市慕舍科技有限公司", "region_level_differs"),
    ("Hikvision Ltd", "Hikvison Ltd", "latin_near_miss"),
    ("Acme Trading", "Acme Tradin", "latin_near_miss"),
    ("上海市基隆贸易有限公司", "基隆贸易有限公司", "region_word_in_name"),
]


@pytest.mark.parametrize(
    ("name_a", "name_b", "rule"),
    [pytest.param(a, b, rule, id=f"{rule}:{a}|{b}") for a, b, rule in POSSIBLE_PAIRS],
)
def test_possible_customer(name_a, name_b, rule):
    verdict = compare_customer_names(name_a, name_b)
    assert (verdict.verdict, verdict.rule) == ("possible", rule), verdict.evidence()
    assert verdict.possible and not verdict.same
    assert compare_customer_names(name_b, name_a).verdict == "possible"


@pytest.mark.parametrize(
    ("name_a", "name_b", "rule"),
    [
        ("深圳市财政局", "深圳市南山区财政局", "region_level_differs"),
        ("阜新市新邱区财政局", "阜新市海州区财政局", "region_differs"),
        ("焦作市第一人民医院", "焦作市第九人民医院", "ordinal_differs"),
        ("慕舍软件股份有限公司", "慕舍软件股份有限公司温州分公司", "branch_differs"),
        ("中国慕舍集团云南有限公司", "中国慕舍集团黑龙江有限公司", "inner_region_differs"),
        ("清远锋鱼纺织股份有限公司", "清远梵鱼纺织股份有限公司", "fuzzy_below_threshold"),
        ("东营法兰多云计算有限责任公司", "东营法兰多物流有限责任公司", "trade_differs"),
        ("渭南德尔格物流有限公司", "金昌德尔格物流有限公司", "region_differs"),
        ("中国银行", "中国农业银行", "fuzzy_below_threshold"),
        ("Northern Lights Technology", "Southern Lights Technology", "fuzzy_below_threshold"),
    ],
)
def test_never_possible_for_other_organisations(name_a, name_b, rule):
    verdict = compare_customer_names(name_a, name_b)
    assert (verdict.verdict, verdict.rule) == ("different", rule), verdict.evidence()


def test_region_and_legal_form_dropped_together_is_only_possible():
    # Legal form kept, region dropped: same; region kept, legal form dropped: same.
    assert compare_customer_names("点灯山贸易股份有限公司", "景德镇市点灯山贸易股份有限公司").same
    assert compare_customer_names("舟山初绿光电", "舟山初绿光电股份有限公司").same
    assert normalize_customer_name("舟山初绿光电股份有限公司").legal_form
    assert not normalize_customer_name("格式塔电子").legal_form
    verdict = compare_customer_names("格式塔电子", "日照市格式塔电子股份有限公司")
    assert verdict.verdict == "possible"


def test_evidence_carries_the_verdict():
    evidence = compare_customer_names("腾迅", "腾讯").evidence()
    assert evidence["verdict"] == "possible" and evidence["same"] is False
    assert json.dumps(evidence, ensure_ascii=False)


def test_suggestion_grams_share_a_gram_with_what_partners_type():
    registered = "杭州海康威视数字技术股份有限公司"
    grams = suggestion_grams(registered)
    assert "海康" in grams and "杭州" not in grams and "公司" not in grams
    for typed in ("海康威视", "海康威视技术", "海糠威视数字技术", "海威视数字技术", "康海威视"):
        assert grams & suggestion_grams(typed), typed
    assert suggestion_grams("腾讯") & suggestion_grams("腾迅")  # a pinyin gram
    assert suggestion_grams("") == set()
    assert suggestion_grams("华") == {"华"}


def test_comparison_is_fast():
    import time

    pairs = [(a, b) for a, b, _ in SAME_PAIRS + DIFFERENT_PAIRS + POSSIBLE_PAIRS]
    for a, b in pairs:
        compare_customer_names(a, b)
    started = time.perf_counter()
    for _ in range(5):
        for a, b in pairs:
            compare_customer_names(a, b)
    per_call = (time.perf_counter() - started) / (5 * len(pairs))
    assert per_call < 0.001
