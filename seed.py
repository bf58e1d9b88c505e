"""Demo data: `flask seed-demo` fills an empty database with a realistic channel.

Lives beside app.py because it spans every package (accounts, partners, pricing, deals).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import click
from sqlalchemy import func, select
from stdnum.cn import uscc as uscc_rule

from accounts.models import ADMIN, FINANCE, MANAGER, PARTNER, REP, User
from app import db
from clock import vendor_today

DEMO_PASSWORD = "demo1234"

DEMO_USERS = [
    ("admin@example.com", "系统管理员 Admin", ADMIN),
    ("manager@example.com", "王建国 (渠道经理)", MANAGER),
    ("manager2@example.com", "李晓燕 (渠道经理)", MANAGER),
    ("rep@example.com", "张伟 (直销经理)", REP),
    ("rep2@example.com", "陈静 (直销经理)", REP),
    ("finance@example.com", "刘芳 (财务)", FINANCE),
]

TIER_POLICIES = {
    # tier: discount, yearly minimum commitment, protection days, manager approval limit, rebate
    "gold": ("0.3000", "5000000.00", 180, "0.1000", "0.0300"),
    "silver": ("0.2000", "1000000.00", 90, "0.0500", "0.0150"),
    "registered": ("0.0500", "0.00", 60, "0.0300", "0.0000"),
}

# (region, administrative division code) used in credit codes and addresses
REGIONS = [
    ("北京", "110108"),
    ("上海", "310115"),
    ("广东", "440305"),
    ("浙江", "330106"),
    ("江苏", "320106"),
    ("四川", "510107"),
    ("湖北", "420106"),
    ("山东", "370102"),
    ("福建", "350102"),
    ("河南", "410105"),
    ("陕西", "610113"),
    ("天津", "120116"),
]
CITY_OF = {
    "北京": "北京",
    "上海": "上海",
    "广东": "深圳",
    "浙江": "杭州",
    "江苏": "南京",
    "四川": "成都",
    "湖北": "武汉",
    "山东": "济南",
    "福建": "福州",
    "河南": "郑州",
    "陕西": "西安",
    "天津": "天津",
}

PARTNER_WORDS = [
    "中科信联",
    "华信达",
    "博远通",
    "天融汇",
    "金鼎数码",
    "恒泰网安",
    "瑞驰信息",
    "云启智联",
    "鸿图伟业",
    "创新维",
    "正元数据",
    "远望通信",
    "佳讯视通",
    "汇丰源",
    "明德信创",
    "星辰网络",
    "安捷讯",
    "东方海纳",
    "北斗星河",
    "智能云图",
    "盛世宏达",
    "长城飞扬",
    "泰和嘉业",
    "银河数智",
    "万象互联",
    "新航道",
    "卓越融通",
    "锦绣华章",
    "易通天下",
    "同创伟业",
    "优联科技",
    "蓝海信息",
]
PARTNER_SUFFIX = [
    "科技有限公司",
    "信息技术有限公司",
    "系统集成有限公司",
    "网络技术有限公司",
    "电子有限公司",
]

PRODUCT_LINES = {
    "服务器": (
        "SRV",
        [
            "R2200 机架服务器",
            "R4400 机架服务器",
            "T1100 塔式服务器",
            "X6800 高密服务器",
            "G5500 GPU服务器",
            "R5300 四路服务器",
            "E9000 刀片机箱",
            "CH121 刀片节点",
        ],
    ),
    "存储": (
        "STO",
        [
            "OS5300 统一存储",
            "OS5500 统一存储",
            "OS6800 高端存储",
            "DF200 全闪存",
            "DF500 全闪存",
            "NAS8100 文件存储",
            "BK3000 备份一体机",
            "OB900 对象存储",
        ],
    ),
    "网络": (
        "NET",
        [
            "S5735 接入交换机",
            "S6730 汇聚交换机",
            "CE6881 数据中心交换机",
            "CE12804 核心交换机",
            "AR6140 企业路由器",
            "AirEngine 5760 无线AP",
            "AC6508 无线控制器",
            "NE40E 路由器",
        ],
    ),
    "安全": (
        "SEC",
        [
            "USG6525 防火墙",
            "USG6650 防火墙",
            "HiSec 态势感知",
            "WAF5000 应用防火墙",
            "SVN5000 VPN网关",
            "AntiDDoS1905",
            "SecoManager 安全控制器",
            "日志审计系统 LA300",
        ],
    ),
    "软件": (
        "SW",
        [
            "FusionCompute 虚拟化 (每CPU)",
            "云桌面 FusionAccess (每用户)",
            "eSight 网管 (每节点)",
            "分布式数据库 GaussDB (每核)",
            "容器平台 (每节点)",
            "备份软件 (每TB)",
            "运维平台 (每套)",
            "超融合软件 (每节点)",
        ],
    ),
}

CUSTOMER_TEMPLATES = [
    ("{city}市第{n}人民医院", "医疗"),
    ("{prov}省人民医院", "医疗"),
    ("{city}市中医院", "医疗"),
    ("{city}市第{n}中学", "教育"),
    ("{city}大学", "教育"),
    ("{city}职业技术学院", "教育"),
    ("{city}市公安局", "政府"),
    ("{city}市财政局", "政府"),
    ("{city}市人力资源和社会保障局", "政府"),
    ("{city}市交通运输局", "政府"),
    ("{city}市大数据中心", "政府"),
    ("{prov}电力设计院有限公司", "能源"),
    ("{city}燃气集团有限公司", "能源"),
    ("{city}水务集团有限公司", "公用事业"),
    ("{city}农村商业银行股份有限公司", "金融"),
    ("{city}银行股份有限公司", "金融"),
    ("{city}证券有限责任公司", "金融"),
    ("{city}地铁集团有限公司", "交通"),
    ("{city}港务集团有限公司", "交通"),
    ("{city}{word}制造有限公司", "制造"),
    ("{city}{word}物流有限公司", "物流"),
    ("{city}{word}零售连锁有限公司", "零售"),
]
ORDINALS = ["一", "二", "三", "四", "五", "六"]
COMPANY_WORDS = [
    "恒达",
    "隆基",
    "新世纪",
    "远航",
    "宏图",
    "嘉禾",
    "德润",
    "华瑞",
    "天成",
    "兴业",
    "顺发",
    "安泰",
]
STRATEGIC_ACCOUNTS = [
    ("国家电网有限公司", "能源", "北京"),
    ("中国移动通信集团有限公司", "运营商", "北京"),
    ("中国工商银行股份有限公司", "金融", "北京"),
    ("中国石油天然气集团有限公司", "能源", "北京"),
    ("上海浦东发展银行股份有限公司", "金融", "上海"),
    ("广东省人民政府办公厅", "政府", "广东"),
    ("浙江省大数据发展管理局", "政府", "浙江"),
    ("招商银行股份有限公司", "金融", "广东"),
    ("中国南方航空股份有限公司", "交通", "广东"),
    ("国家税务总局江苏省税务局", "政府", "江苏"),
]


def seed_tier_policies() -> None:
    """The default tier policies (TIER_POLICIES), for those tiers that have none yet."""
    from partners.models import TierPolicy

    for tier, (discount, minimum, days, limit, rebate) in TIER_POLICIES.items():
        if db.session.get(TierPolicy, tier) is None:
            db.session.add(
                TierPolicy(
                    tier=tier,
                    discount_rate=Decimal(discount),
                    min_commitment=Decimal(minimum),
                    protection_days=days,
                    approval_limit=Decimal(limit),
                    rebate_rate=Decimal(rebate),
                )
            )


def make_uscc(rng: random.Random, division: str) -> str:
    """A credit code whose check character is right (python-stdnum computes it)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + division + "".join(rng.choice(alphabet) for _ in range(9))
    return body + uscc_rule.calc_check_digit(body)


def seed_demo(rng: random.Random | None = None) -> dict:
    """Fill an empty database with demo data; returns counts. The caller commits."""
    from customers.models import EndCustomer
    from partners.models import Partner, PartnerContact
    from pricing.models import Product

    rng = rng or random.Random(20261123)
    seed_tier_policies()
    users = {}
    for email, name, role in DEMO_USERS:
        user = User(email=email, name=name, role=role)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        users[email] = user
    db.session.flush()
    managers = [users["manager@example.com"], users["manager2@example.com"]]
    reps = [users["rep@example.com"], users["rep2@example.com"]]

    tiers = ["gold"] * 6 + ["silver"] * 10 + ["registered"] * 14
    partners = []
    today = vendor_today()
    for index, tier in enumerate(tiers):
        region, division = REGIONS[index % len(REGIONS)]
        name = (
            f"{CITY_OF[region]}{PARTNER_WORDS[index]}{PARTNER_SUFFIX[index % len(PARTNER_SUFFIX)]}"
        )
        start = date(today.year, 1, 1) if tier != "registered" else None
        partner = Partner(
            name=name,
            uscc=make_uscc(rng, division),
            region=region,
            partner_type=("distributor", "reseller", "integrator")[index % 3],
            tier=tier,
            status="suspended" if index == 29 else "active",
            owner=managers[0] if index % 3 != 2 else managers[1],
            agreement_start=start,
            agreement_end=date(today.year, 12, 31) if start else None,
            notes="",
        )
        surname = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨"[index % 16]
        partner.contacts = [
            PartnerContact(
                name=f"{surname}经理",
                title="销售总监",
                phone=f"138{rng.randint(10000000, 99999999)}",
                email=f"sales{index + 1}@partner{index + 1}.example.cn",
            )
        ]
        db.session.add(partner)
        partners.append(partner)
    db.session.flush()
    # The demo partner users: one at a gold partner, one at a silver partner.
    for email, name, partner in (
        ("partner@example.com", "孙磊 (金牌伙伴)", partners[0]),
        ("partner2@example.com", "周敏 (银牌伙伴)", partners[6]),
    ):
        user = User(email=email, name=name, role=PARTNER, partner_id=partner.id)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)

    products = 0
    for line, (prefix, names) in PRODUCT_LINES.items():
        for number, name in enumerate(names, start=1):
            base = rng.choice([8, 12, 18, 25, 36, 48, 66, 88, 120, 180, 260])
            list_price = Decimal(base * 1000 + rng.choice([0, 500])).quantize(Decimal("0.01"))
            floor = (list_price * Decimal("0.55")).quantize(Decimal("0.01"))
            db.session.add(
                Product(
                    sku=f"{prefix}-{number:03d}",
                    name=name,
                    product_line=line,
                    list_price=list_price,
                    floor_price=floor,
                    active=not (prefix == "SW" and number == 8),
                )
            )
            products += 1

    seen = set()
    customers = []
    for name, industry, region in STRATEGIC_ACCOUNTS:
        division = dict(REGIONS)[region]
        customers.append(
            EndCustomer(
                name=name,
                uscc=make_uscc(rng, division),
                region=region,
                industry=industry,
                segment="strategic",
                coverage="direct",
                owner_rep=reps[len(customers) % 2],
            )
        )
        seen.add(name)
    while len(customers) < 200:
        region, division = rng.choice(REGIONS)
        city = CITY_OF[region]
        template, industry = rng.choice(CUSTOMER_TEMPLATES)
        name = template.format(
            city=city, prov=region, n=rng.choice(ORDINALS), word=rng.choice(COMPANY_WORDS)
        )
        if name in seen:
            continue
        seen.add(name)
        segment = rng.choices(["top", "important", "normal"], weights=[1, 3, 8])[0]
        direct = segment == "top" and rng.random() < 0.6
        customers.append(
            EndCustomer(
                name=name,
                # About two thirds of customers have a known credit code.
                uscc=make_uscc(rng, division) if rng.random() < 0.66 else None,
                region=region,
                industry=industry,
                segment=segment,
                coverage="direct" if direct else "channel",
                owner_rep=rng.choice(reps) if direct else None,
            )
        )
    for customer in customers:
        customer.set_name(customer.name)
        db.session.add(customer)
    db.session.flush()
    orders = seed_demo_orders(rng, users, partners)
    deals = seed_demo_deals(rng, users, partners, customers)
    return {
        "users": len(DEMO_USERS) + 2,
        "partners": len(partners),
        "products": products,
        "customers": len(customers),
        "stock orders": orders,
        "deals": deals,
    }


def seed_demo_orders(rng: random.Random, users: dict, partners: list) -> int:
    """Commitments for gold and silver partners and a year of stock orders (some slipping)."""
    from partners.commitments import OrderLineInput, record_commitment, record_stock_order
    from pricing.models import Product

    today = vendor_today()
    products = db.session.scalars(select(Product).where(Product.active.is_(True))).all()
    manager = users["manager@example.com"]
    amounts = {"gold": Decimal("6000000"), "silver": Decimal("1200000")}
    count = 0
    for index, partner in enumerate(partners):
        if partner.tier == "registered" and index % 4:
            continue
        if partner.tier in amounts:
            record_commitment(
                partner,
                period=str(today.year),
                amount=amounts[partner.tier] * Decimal(rng.choice(["1", "1.2", "0.9"])),
                signed_on=date(today.year, 1, 8),
                lines=[],
                user=manager,
            )
        # Monthly pace: most keep up; every fifth partner stopped ordering four months ago.
        yearly = amounts.get(partner.tier, Decimal("300000")) * Decimal(
            rng.choice(["0.7", "1.0", "1.1"])
        )
        stopped = index % 5 == 4
        for months_ago in range(12, -1, -1):
            if stopped and months_ago < 4:
                continue
            day = today - timedelta(days=30 * months_ago + rng.randint(0, 5))
            if day > today:
                continue
            product = rng.choice(products)
            target = yearly / 12
            quantity = max(1, int(target / (product.list_price * Decimal("0.75"))))
            record_stock_order(
                partner,
                number=f"SO-{partner.id:03d}-{day:%Y%m%d}-{months_ago}",
                order_date=day,
                lines=[
                    OrderLineInput(
                        product.id,
                        quantity,
                        (product.list_price * Decimal("0.75")).quantize(Decimal("0.01")),
                    )
                ],
                user=manager,
                source="import",
            )
            count += 1
    return count


PROJECTS = [
    "数据中心扩容项目",
    "核心网络改造",
    "灾备中心建设",
    "云桌面试点",
    "安全等保2.0整改",
    "视频监控存储扩容",
    "信创替代一期",
    "校园网升级",
    "医院HIS系统服务器更新",
    "智慧政务云平台",
]


def seed_demo_deals(rng: random.Random, users: dict, partners: list, customers: list) -> int:
    """Registrations in every state through the real workflow, so conflicts are real too."""
    from customers.models import EndCustomer
    from deals.special_prices import decide_special_price, special_price_offer
    from deals.workflow import (
        ContactInput,
        DealInput,
        LineInput,
        NewCustomerInput,
        approve_deal,
        has_open_conflict,
        request_information,
        save_direct_deal,
        save_registration,
    )
    from pricing.models import Product

    products = db.session.scalars(select(Product).where(Product.active.is_(True))).all()
    partner_users = {}
    for partner in partners[:12]:
        user = db.session.scalar(select(User).where(User.partner_id == partner.id))
        if user is None:
            user = User(
                email=f"user{partner.id}@partner.example.cn",
                name=f"{partner.name[:6]}销售",
                role=PARTNER,
                partner_id=partner.id,
            )
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
            db.session.flush()
        partner_users[partner.id] = user
    channel_customers = [c for c in customers if c.coverage == "channel"]
    named_accounts = [c for c in customers if c.coverage == "direct"]
    today = vendor_today()

    def deal_input(customer: EndCustomer, product_pool) -> DealInput:
        lines = []
        for product in rng.sample(product_pool, k=rng.randint(1, 3)):
            discount = Decimal(rng.choice(["0.70", "0.72", "0.65", "0.60", "0.80", "0.75"]))
            lines.append(
                LineInput(
                    product_id=product.id,
                    quantity=rng.randint(1, 20),
                    unit_price=(product.list_price * discount).quantize(Decimal("0.01")),
                )
            )
        return DealInput(
            project_name=f"{rng.choice(PROJECTS)}（{customer.region}）",
            estimated_value=Decimal(rng.randint(20, 800) * 10000),
            expected_close_date=today + timedelta(days=rng.randint(20, 300)),
            stage=rng.choice(
                [
                    "need_identified",
                    "project_approved",
                    "technical_screening",
                    "evaluation",
                    "final_decision",
                ]
            ),
            funding_source=rng.choice(["own_budget", "superior_allocation", "external"]),
            customer_id=customer.id,
            competitors=rng.choice(["华为, 新华三", "浪潮", "锐捷, 深信服", "戴尔", ""]),
            lines=lines,
            contacts=[ContactInput(name="王主任", role="decision_maker", title="信息中心主任")],
        )

    manager = users["manager@example.com"]
    admin = users["admin@example.com"]
    count = 0
    overlap_customer = channel_customers[0]
    for index, partner in enumerate(partners[:12]):
        user = partner_users[partner.id]
        for n in range(3):
            if index in (0, 6) and n == 0:
                customer = overlap_customer  # two partners chase the same customer
                pool = [p for p in products if p.product_line == "服务器"]
            elif index == 2 and n == 0:
                customer = named_accounts[0]  # a partner walks into a direct named account
                pool = products
            else:
                customer = rng.choice(channel_customers)
                pool = products
            data = deal_input(customer, pool)
            if customer.coverage == "direct":
                # A partner cannot pick a named account: it types the customer with its credit
                # code, which names that record (deals.workflow), and the overlap is found.
                data.customer_id = None
                data.new_customer = NewCustomerInput(
                    name=customer.name, uscc=customer.uscc or "", region=customer.region
                )
            deal = save_registration(user, data, submit=(n != 2 or index % 4 == 0), today=today)
            count += 1
            if (
                deal.status == "submitted"
                and n == 1
                and index % 3 == 0
                and not has_open_conflict(deal)
            ):
                for line in deal.lines:
                    if line.special_status == "pending":
                        offered = special_price_offer(deal).allowed
                        decide_special_price(deal, line, admin, approve=offered, note="演示数据")
                approve_deal(deal, manager, None, "符合报备规则")
            elif deal.status == "submitted" and n == 1 and index % 3 == 1:
                request_information(deal, manager, None, "请补充客户立项文件和预算来源")
    # Partners type short names: the manager sees a possible match to decide, the partner only
    # "submitted" (中国移动 for the named account 中国移动通信集团有限公司).
    for index, account, typed in ((3, 1, "中国移动"), (4, 3, "中国石油")):
        short = deal_input(named_accounts[account], products)
        short.customer_id = None
        short.new_customer = NewCustomerInput(
            name=typed, region=named_accounts[account].region, industry="运营商"
        )
        save_registration(partner_users[partners[index].id], short, submit=True, today=today)
        count += 1
    rep = users["rep@example.com"]
    save_direct_deal(
        rep,
        deal_input(named_accounts[1], products),
        today=today,
    )
    save_direct_deal(rep, deal_input(channel_customers[5], products), today=today)
    return count + 2


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when users already exist.")
def seed_demo_command(if_empty: bool):
    """Load the demo data (partners, products, end customers, demo logins)."""
    if db.session.scalar(select(func.count()).select_from(User)):
        if if_empty:
            click.echo("Database already has data; demo data not loaded.")
            return
        raise click.ClickException("The database already has users; seed only an empty one.")
    counts = seed_demo()
    db.session.commit()
    click.echo("Demo data loaded: " + ", ".join(f"{n} {k}" for k, n in counts.items()) + ".")
    click.echo(f"Demo logins (password {DEMO_PASSWORD}):")
    for email, _name, role in DEMO_USERS:
        click.echo(f"  {email:24} {role}")
    click.echo(f"  {'partner@example.com':24} partner (gold)")
    click.echo(f"  {'partner2@example.com':24} partner (silver)")
