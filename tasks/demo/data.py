"""A deterministic demo organisation at three scales, with Chinese names (fixed random seed).

district: the size of seed 003 (梅列区): 25 communities, 271 task-taking units, ~1,000 members and
          residents of whom 815 take posts, 247 suggestions, 284 tasks.
city:     the size of seed 001: 24 streets, 148 communities, ~800 units, ~9,000 party members.
province: 5,000 communities in 300 streets and 60 districts, ~30,000 units, ~150,000 tasks."""

import random
from dataclasses import dataclass

from lianchuang.models.enums import Category, Role, UnitKind
from lianchuang.tasks.org import OrgData


@dataclass(frozen=True)
class Scale:
    districts: int
    streets_per_district: int
    communities: int
    task_units: int  # residents' committees, linked and stationed units, civil and mass organisations
    members_per_community: int  # party members, activists and residents who may take posts
    post_holders: int
    suggestions: int
    tasks: int


SCALE_NAMES = {"district": "区级（梅列区规模）", "city": "市级（三明市规模）", "province": "省级（5,000 个社区）"}
SCALES = {
    "district": Scale(1, 4, 25, 271, 40, 815, 247, 284),
    "city": Scale(1, 24, 148, 800, 61, 3000, 1480, 1700),
    "province": Scale(60, 5, 5000, 30000, 10, 30000, 50000, 150000),
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺顾毛郝龚邵万覃武钱戴严莫孔向常汤康易乔赖文"
GIVEN = "建国秀英丽华志强海燕俊杰晓明红梅春生玉兰文华德明淑珍家豪子涵思远雨桐嘉怡浩然宇轩欣怡伟明桂英振华国庆美玲金凤永福立新秋菊天佑"
DISTRICT_NAMES = ["梅列区", "三元区", "鼓楼区", "台江区", "仓山区", "晋安区", "马尾区", "长乐区", "思明区", "湖里区"]
STREET_WORDS = ["列东", "列西", "徐碧", "城关", "江滨", "东新", "南湖", "北塔", "西园", "新华", "解放", "中山", "和平", "胜利",
                "建设", "文化", "人民", "光明", "前进", "红旗", "青山", "白沙", "翠竹", "龙岗"]
COMMUNITY_WORDS = ["江滨", "碧湖", "翠园", "乾龙", "新市", "东霞", "富兴", "梅岭", "列东", "岩前", "沙阳", "陈大", "永兴", "福苑",
                   "金湖", "桃源", "杨柳", "和谐", "幸福", "丰收", "高岩", "双园", "凤岗", "芙蓉", "群英", "三路", "七路", "下洋"]
STATIONED = ["供电公司", "自来水公司", "人民医院", "第一中学", "实验小学", "工商银行支行", "农业银行支行", "税务所", "邮政局",
             "移动公司", "电信公司", "建设集团", "钢铁公司", "化工厂", "纺织厂", "商贸城", "物业公司", "派出所", "卫生院", "图书馆"]
CIVIL = ["老年协会", "志愿者协会", "书画协会", "业主委员会", "夕阳红文艺队", "腰鼓队", "义工服务社"]
MASS = ["团支部", "妇女之家", "工会联合会", "关工委", "老年人协会", "残疾人协会"]
LEADER_UNITS = ["区委组织部", "区委宣传部", "区民政局", "区财政局", "区住建局", "区卫健局", "区城管局", "区司法局"]

TASK_IDEAS = {
    Category.party_building: ["建立健全社区党建联席会制度", "开展无职党员设岗定责", "推动非公企业建立党组织", "开展党员志愿服务月活动"],
    Category.public_safety: ["加强{place}夜间巡逻", "整治{place}治安隐患", "{place}安装治安监控", "推行小区“四管”模式"],
    Category.sanitation: ["集中整治{place}楼院卫生", "改造{place}老旧下水道", "治理{place}乱倒垃圾", "开展“大手牵小手”卫生监督"],
    Category.services: ["为{place}空巢老人提供上门服务", "建设社区“绿色网吧”开展上网培训", "帮扶{place}困难家庭", "开展就业技能培训"],
    Category.culture: ["组建社区文艺队", "举办“邻里一家亲”文体活动", "开展文明楼院评比", "举办青少年暑期夏令营"],
}
PLACES = ["东区", "西区", "一号楼", "二号楼", "沿江小区", "老街片区", "菜市场周边", "学校周边", "新村", "宿舍区"]


def person_name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return rng.choice(SURNAMES) + given


def task_idea(rng: random.Random) -> tuple[Category, str]:
    category = rng.choice(list(Category))
    return category, rng.choice(TASK_IDEAS[category]).format(place=rng.choice(PLACES))


def generate_org(scale: Scale, seed: int = 3) -> OrgData:
    rng = random.Random(seed)
    data = OrgData()
    per_district = scale.communities // scale.districts
    community_codes = []
    for d in range(scale.districts):
        district_code = f"D{d + 1:02d}"
        district_name = DISTRICT_NAMES[d] if d < len(DISTRICT_NAMES) else f"第{d + 1}区"
        data.districts.append(dict(code=district_code, name=district_name))
        data.people.append(dict(code=f"P{district_code}", name=person_name(rng), role=Role.district_coordinator,
                                district=district_code, email=f"{district_code.lower()}-office@demo.lianchuang.cn"))
        count = per_district + (scale.communities - per_district * scale.districts if d == scale.districts - 1 else 0)
        for s in range(scale.streets_per_district):
            street_code = f"{district_code}S{s + 1:02d}"
            word = STREET_WORDS[s % len(STREET_WORDS)] + ("" if s < len(STREET_WORDS) else str(s // len(STREET_WORDS) + 1))
            data.streets.append(dict(code=street_code, name=f"{word}街道", district=district_code))
            data.people.append(dict(code=f"P{street_code}", name=person_name(rng), role=Role.street_coordinator,
                                    street=street_code, email=f"{street_code.lower()}@demo.lianchuang.cn"))
            in_street = count // scale.streets_per_district + (1 if s < count % scale.streets_per_district else 0)
            for c in range(in_street):
                code = f"{street_code}C{c + 1:02d}"
                word = COMMUNITY_WORDS[(s * 7 + c) % len(COMMUNITY_WORDS)]
                data.communities.append(dict(code=code, name=f"{word}社区", street=street_code))
                community_codes.append(code)
    names_taken = set()
    for community in data.communities:  # community names must be unique for lookups by name
        word, number = community["name"].removesuffix("社区"), 1
        while community["name"] in names_taken:  # 江滨社区, 江滨第2社区, 江滨第3社区, ...
            number += 1
            community["name"] = f"{word}第{number}社区"
        names_taken.add(community["name"])

    unit_number = 0

    def add_unit(community: dict, kind: UnitKind, name: str) -> str:
        nonlocal unit_number
        unit_number += 1
        code = f"U{unit_number:06d}"
        strengths = ",".join(sorted(rng.sample([c.value for c in Category], rng.choice((1, 2)))))
        data.units.append(dict(code=code, name=name, kind=kind, community=community["code"], strengths=strengths,
                               capacity=rng.choice((2, 3, 3, 4))))
        for role in (Role.unit_leader, Role.liaison):
            data.people.append(dict(code=f"P{code}{'L' if role == Role.unit_leader else 'C'}", name=person_name(rng),
                                    role=role, community=community["code"], unit=code,
                                    email=f"{code.lower()}{'l' if role == Role.unit_leader else 'c'}@demo.lianchuang.cn"))
        return code

    extra = scale.task_units - 2 * len(data.communities)
    for index, community in enumerate(data.communities):
        name = community["name"]
        add_unit(community, UnitKind.party_org, f"{name}党支部")
        add_unit(community, UnitKind.residents_committee, f"{name}居委会")
        add_unit(community, UnitKind.linked_leader, f"挂点领导（{rng.choice(LEADER_UNITS)}）")
        add_unit(community, UnitKind.linked_unit, f"{rng.choice(LEADER_UNITS)}（挂点{name}）")
        residents = add_unit(community, UnitKind.residents, f"{name}居民群众")
        share = extra // len(data.communities) + (1 if index < extra % len(data.communities) else 0)
        for _ in range(share):
            kind = rng.choices([UnitKind.stationed_unit, UnitKind.civil_org, UnitKind.mass_org], weights=(6, 2, 2))[0]
            pool = {UnitKind.stationed_unit: STATIONED, UnitKind.civil_org: CIVIL, UnitKind.mass_org: MASS}[kind]
            add_unit(community, kind, f"{name}{rng.choice(pool)}" if kind != UnitKind.stationed_unit
                     else f"{rng.choice(['市', '区', ''])}{rng.choice(pool)}{rng.randint(1, 9)}号")
        data.people.append(dict(code=f"P{community['code']}", name=person_name(rng), role=Role.community_coordinator,
                                community=community["code"], email=f"{community['code'].lower()}@demo.lianchuang.cn"))
        for m in range(scale.members_per_community):
            role = rng.choices([Role.serving_member, Role.member_without_post, Role.activist, Role.resident,
                                Role.resident_rep], weights=(4, 3, 2, 2, 1))[0]
            has_email = rng.random() < 0.85  # many older residents have no email
            code = f"P{community['code']}M{m + 1:03d}"
            data.people.append(dict(code=code, name=person_name(rng), role=role, community=community["code"],
                                    unit=residents if role == Role.resident_rep else None,
                                    email=f"{code.lower()}@demo.lianchuang.cn" if has_email else None,
                                    phone=None if has_email else f"1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}"))
    return data
