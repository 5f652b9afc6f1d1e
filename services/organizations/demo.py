"""The demo county: deterministic, modelled on the 高唐 figures (shared/seeds/004).

3 streets, 24 communities, 238 compounds of which 225 have an owners' committee, 61 old compounds taken over by
4 state-owned companies in bundled districts (片区), 30 companies whose party organizations are 4 entity,
8 functional and 18 joint, a few self-managed compounds and four 三无 compounds; county departments; and one demo
account for every role. Loaded through the registry use cases, so every record also publishes its event.
"""
import datetime as dt
import random

from kit import auth
from services.organizations.domain.credit_code import make_credit_code
from services.organizations.domain.rules import OwnerOrganizationType
from services.organizations.registry import Registry, hash_password

COUNTY = ("371526", "高唐县")
STREETS = [("371526001", "鱼邱湖街道"), ("371526002", "汇鑫街道"), ("371526003", "人和街道")]
COMMUNITY_NAMES = ["金城", "鱼丘", "和平", "文昌", "建设", "光明", "时风", "官道", "新华", "永安", "固河", "琉璃寺",
                   "清平", "姜店", "赵寨子", "杨屯", "尹集", "三十里铺", "梁村", "双海湖", "凤凰", "润泽", "府前", "湖滨"]
COMPOUND_WORDS = ["金座", "鱼邱", "和谐", "文化", "龙湖", "幸福", "阳光", "锦绣", "御景", "书香", "恒大", "盛世",
                  "东方", "南湖", "西城", "北辰", "紫荆", "翠苑", "康居", "怡景"]
COMPOUND_SUFFIXES = ["花园", "家园", "小区", "新村", "名苑", "雅居", "公寓"]
DEPARTMENTS = [("CG", "县城市管理局 urban management"), ("GA", "县公安局 public security"),
               ("XF", "县消防救援大队 fire rescue"), ("SJ", "县市场监督管理局 market regulation"),
               ("HB", "生态环境分局 ecology and environment")]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英"]

COMPOUNDS = 238
OLD_COMPOUNDS = 61
STATE_OWNED_COMPANIES = 4
PRIVATE_COMPANIES = 26
SELF_MANAGED = 17
UNMANAGED = 10
START = dt.date(2024, 1, 1)


def _company_name(i, state_owned):
    if state_owned:
        return f"高唐县{['城投', '国资', '安居', '城发'][i]}物业管理有限公司"
    return f"高唐{COMPOUND_WORDS[i % len(COMPOUND_WORDS)]}{['物业服务', '物业管理'][i % 2]}有限公司"


def plan(seed=20241122):
    """The whole county as plain data; `load` writes it."""
    rng = random.Random(seed)
    old = set(rng.sample(range(1, COMPOUNDS), OLD_COMPOUNDS))  # compound 0 (resident1's) is never old
    rest = [i for i in range(COMPOUNDS) if i not in old]
    unmanaged, self_managed, professional = rest[-UNMANAGED:], rest[-UNMANAGED - SELF_MANAGED:-UNMANAGED], \
        rest[:-UNMANAGED - SELF_MANAGED]
    management_committee = set(unmanaged[4:6] + self_managed[:5])      # 7: stand-ins for an owners' committee
    no_organization = set(unmanaged[:4] + self_managed[5:7])          # 6: of which unmanaged[:4] are 三无
    compounds = []
    for i in range(COMPOUNDS):
        households = rng.randint(80, 1200)
        compounds.append({
            "index": i, "community": i * 24 // COMPOUNDS, "old": i in old, "self_managed": i in self_managed,
            "name": f"{COMPOUND_WORDS[i % 20]}{COMPOUND_SUFFIXES[(i // 20) % 7]}{'' if i < 140 else str(i // 140 + 1) + '期'}",
            "households": households, "floor_area": round(households * rng.uniform(80, 120), 1),
            "year_built": rng.randint(1985, 2005) if i in old else rng.randint(2000, 2022),
            "owner_org": None if i in no_organization else (
                OwnerOrganizationType.MANAGEMENT_COMMITTEE if i in management_committee
                else OwnerOrganizationType.OWNERS_COMMITTEE),
            "party_branch": i not in no_organization,
        })
    old_sorted = sorted(old)
    districts = [old_sorted[k::STATE_OWNED_COMPANIES] for k in range(STATE_OWNED_COMPANIES)]
    private = {idx: n % PRIVATE_COMPANIES for n, idx in enumerate(professional)}
    return {"compounds": compounds, "districts": districts, "private": private, "rng": rng,
            "unmanaged": unmanaged}


def _person_name(n):
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)]


def load(session, outbox, password, today=None):
    """Write the demo county; returns the demo accounts as (username, role, where)."""
    system = auth.system_caller("demo")
    reg = Registry(session, system, outbox, today=today)
    data = plan()
    county = reg.create_region({"code": COUNTY[0], "name": COUNTY[1], "level": "county", "parent_id": None})
    streets, communities = [], []
    for s, (code, name) in enumerate(STREETS):
        street = reg.create_region({"code": code, "name": name, "level": "street", "parent_id": county["id"]})
        streets.append(street)
        for c in range(8):
            n = s * 8 + c
            communities.append(reg.create_region({"code": f"{code}{c + 1:03d}", "name": f"{COMMUNITY_NAMES[n]}社区",
                                                  "level": "community", "parent_id": street["id"]}))
    compounds = []
    for spec in data["compounds"]:
        community = communities[spec["community"]]
        compounds.append(reg.create_compound({
            "code": f"{community['code']}{spec['index'] + 1:03d}", "name": spec["name"],
            "community_id": community["id"], "address": f"高唐县{community['name']}{spec['index'] % 50 + 1}号",
            "longitude": round(116.23 + (spec["index"] % 17) * 0.003, 6),
            "latitude": round(36.86 + (spec["index"] // 17) * 0.002, 6), "year_built": spec["year_built"],
            "building_count": max(1, spec["households"] // 60), "households": spec["households"],
            "floor_area": spec["floor_area"], "old_compound": spec["old"], "self_managed": spec["self_managed"]}))
    companies = []
    for i in range(STATE_OWNED_COMPANIES + PRIVATE_COMPANIES):
        state_owned = i < STATE_OWNED_COMPANIES
        members = 8 + i if state_owned else (1 + i % 2 if i < 12 else (3 if i == 12 else i % 3))
        companies.append(reg.create_company({
            "name": _company_name(i if state_owned else i - STATE_OWNED_COMPANIES, state_owned),
            "credit_code": make_credit_code(f"91371526MA{3000000 + i * 7919:07d}"), "region_id": county["id"],
            "staff_count": 40 + (i * 37) % 160, "state_owned": state_owned, "party_member_count": members,
            "address": f"高唐县人和路{i + 1}号", "service_phone": f"0635-39{i:05d}"}))
    # Party organizations: 4 entity (the state-owned), 8 functional, 18 joint (six joint branches of three).
    for i, company in enumerate(companies):
        if i < 4 or 4 <= i < 12:
            form = "entity" if i < 4 else "functional"
            reg.create_party_organization({"name": f"{company.name}党支部", "kind": "company", "form": form,
                                           "company_ids": [company.id], "member_count": company.party_member_count,
                                           "founded_on": dt.date(2019 + i % 4, 7, 1)})
    for g in range(6):
        group = companies[12 + g * 3: 15 + g * 3]
        reg.create_party_organization({"name": f"高唐县物业行业第{g + 1}联合党支部", "kind": "company", "form": "joint",
                                       "company_ids": [c.id for c in group],
                                       "member_count": sum(c.party_member_count for c in group),
                                       "founded_on": dt.date(2021, 7, 1)})
    # Contracts: bundled districts (片区) for the state-owned companies, one contract per compound otherwise.
    for k, district in enumerate(data["districts"]):
        reg.create_contract({"code": f"HT-PQ-{k + 1:02d}", "name": f"{companies[k].name}老旧小区片区物业服务项目",
                             "company_id": companies[k].id, "compound_ids": [compounds[i].id for i in district],
                             "residential": True, "households": sum(compounds[i].households for i in district),
                             "floor_area": round(sum(compounds[i].floor_area for i in district), 1),
                             "fee_standard": "0.35", "start_date": dt.date(2023, 1, 1), "end_date": None})
    for i, company_index in sorted(data["private"].items()):
        compound = compounds[i]
        company = companies[STATE_OWNED_COMPANIES + company_index]
        reg.create_contract({"code": f"HT-{2020 + i % 5}-{i + 1:04d}", "name": f"{compound.name}物业服务项目",
                             "company_id": company.id, "compound_ids": [compound.id], "residential": True,
                             "households": compound.households, "floor_area": compound.floor_area,
                             "fee_standard": f"{0.6 + (i % 8) * 0.1:.2f}", "start_date": dt.date(2020 + i % 5, 1, 1),
                             "end_date": None if i % 3 else dt.date(2030 + i % 4, 12, 31)})
    for spec, compound in zip(data["compounds"], compounds):
        if spec["owner_org"]:
            label = "业主委员会" if spec["owner_org"] == OwnerOrganizationType.OWNERS_COMMITTEE else "物业管理委员会"
            reg.create_owner_organization({"compound_id": compound.id, "type": spec["owner_org"],
                                           "name": f"{compound.name}{label}", "term_start": dt.date(2023, 3, 1),
                                           "term_end": dt.date(2028, 2, 28)})
        if spec["party_branch"]:
            reg.create_party_organization({"name": f"{compound.name}党支部", "kind": "compound_branch",
                                           "compound_id": compound.id, "member_count": 3 + spec["index"] % 9,
                                           "founded_on": dt.date(2022, 7, 1)})
    departments = [reg.create_department({"code": f"371526-{code}", "name": name, "region_id": county["id"]})
                   for code, name in DEPARTMENTS]
    return _accounts(reg, password, county, streets, communities, compounds, companies, departments, data)


def _accounts(reg, password, county, streets, communities, compounds, companies, departments, data):
    home = compounds[0]  # in community1, served by company1
    company1 = companies[STATE_OWNED_COMPANIES + data["private"][0]]
    other_company = next(c for c in companies[STATE_OWNED_COMPANIES:] if c.id != company1.id)
    owners_org = next(o for o in home.owner_organizations)
    people = {}
    shared_hash = hash_password(password)
    accounts = [
        ("admin", auth.ADMIN, {"region_id": county["id"]}, "县信息中心 county IT"),
        ("bureau", auth.BUREAU, {"region_id": county["id"]}, "县住建局 housing bureau"),
        ("street1", auth.STREET, {"region_id": streets[0]["id"]}, streets[0]["name"]),
        ("community1", auth.COMMUNITY, {"region_id": communities[0]["id"]}, communities[0]["name"]),
        ("community2", auth.COMMUNITY, {"region_id": communities[1]["id"]}, communities[1]["name"]),
        ("company1", auth.COMPANY, {"company_id": company1.id}, company1.name),
        ("company2", auth.COMPANY, {"company_id": other_company.id}, other_company.name),
        ("resident1", auth.RESIDENT, {"compound_id": home.id, "room": "1-1-101"}, home.name),
        ("owners1", auth.OWNERS_ORG, {"compound_id": home.id, "organization_id": owners_org.id},
         f"{home.name} {owners_org.name}"),
        ("party1", auth.PARTY_BRANCH, {"compound_id": home.id}, f"{home.name}党支部"),
        ("department1", auth.DEPARTMENT, {"department_id": departments[0]["id"]}, departments[0]["name"]),
    ]
    listed = []
    for n, (username, role, scope, where) in enumerate(accounts):
        region_id = scope.get("region_id") or communities[0]["id"]
        person = reg.create_person({"name": _person_name(n), "phone": f"1380635{n:04d}", "region_id": region_id})
        people[username] = person
        reg.create_account({"username": username, "password": password, "person_id": person["id"],
                            "memberships": [{"role": role, **scope}]}, demo=True, password_hash=shared_hash)
        listed.append((username, role, where))
    # Cross-appointment (交叉任职): the party branch member also sits on the owners' committee.
    reg.create_appointment({"person_id": people["party1"]["id"], "organization_kind": "party",
                            "organization_id": home.party_organizations[0].id, "title": "支部书记 secretary"})
    reg.create_appointment({"person_id": people["party1"]["id"], "organization_kind": "owners",
                            "organization_id": owners_org.id, "title": "业委会主任 chair"})
    return listed
