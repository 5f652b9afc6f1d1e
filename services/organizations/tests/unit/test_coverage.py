from services.organizations.domain.coverage import CompanyFacts, CompoundFacts, compute_coverage, ratio


def compound(compound_id, mode="professional", owners=None, branch=False, households=100, area=1000.0,
             three_without=False, old=False):
    return CompoundFacts(compound_id=compound_id, name=f"compound {compound_id}", management_mode=mode,
                         owner_organization_type=owners, has_party_branch=branch, households=households,
                         floor_area=area, three_without=three_without, old_compound=old)


def company(company_id, form, members=0, state_owned=False):
    return CompanyFacts(company_id=company_id, party_organization_form=form, party_member_count=members,
                        state_owned=state_owned)


def test_ratio_never_divides_by_zero_and_rounds():
    assert ratio(0, 0) == 0.0
    assert ratio(5, 0) == 0.0
    assert ratio(1, 3) == 0.3333
    assert ratio(225, 238) == 0.9454
    assert isinstance(ratio(2, 2), float)


def test_empty_node_has_zero_rates():
    result = compute_coverage([], [])
    assert result["compounds"] == 0
    assert result["floor_area"] == 0
    assert result["management"]["professional_rate"] == 0.0
    assert result["owner_organizations"]["coverage_rate"] == 0.0
    assert result["party_branches"]["coverage_rate"] == 0.0
    assert result["companies"]["coverage_rate"] == 0.0
    assert result["three_without"] == {"count": 0, "compound_ids": []}


def test_coverage_of_a_mixed_street():
    compounds = [
        compound(1, "professional", "owners_committee", branch=True, households=300, area=20000.134),
        compound(2, "state_owned", "management_committee", branch=True, households=120, area=8000.5, old=True),
        compound(3, "self_managed", "self_governing_committee", households=40, area=1500, old=True),
        compound(5, "none", None, households=20, area=600.0, three_without=True, old=True),
        compound(4, "none", None, households=10, area=300.0, three_without=True),
    ]
    companies = [
        company("a", "entity", 5),
        company("b", "functional", 4),  # 3+ members but no own branch
        company("c", "joint", 1),
        company("d", "none", 0, state_owned=True),
        company("e", "none", 3),  # 3+ members and nothing at all
    ]
    result = compute_coverage(compounds, companies)
    assert result["compounds"] == 5
    assert result["households"] == 490
    assert result["floor_area"] == 30400.63
    assert result["old_compounds"] == 3
    assert result["management"] == {
        "professional": 1, "state_owned": 1, "self_managed": 1, "none": 2,
        "professional_rate": 0.4, "households_served": 420,
    }
    assert result["owner_organizations"] == {
        "owners_committee": 1, "management_committee": 1, "self_governing_committee": 1,
        "covered": 3, "coverage_rate": 0.6, "owners_committee_rate": 0.2,
    }
    assert result["party_branches"] == {"covered": 2, "coverage_rate": 0.4}
    assert result["companies"] == {
        "total": 5, "entity": 1, "functional": 1, "joint": 1, "none": 2,
        "covered": 3, "coverage_rate": 0.6, "needing_own_branch": 2,
    }
    assert result["three_without"] == {"count": 2, "compound_ids": [4, 5]}


def test_gaotang_registry_figures():
    # 高唐: 30 companies (4 entity, 8 functional, 18 joint = 100%), 225 of 238 compounds with an owners' committee
    companies = ([company(i, "entity", 3) for i in range(4)] + [company(i, "functional") for i in range(4, 12)]
                 + [company(i, "joint") for i in range(12, 30)])
    compounds = [compound(i, owners="owners_committee" if i < 225 else None) for i in range(238)]
    result = compute_coverage(compounds, companies)
    assert result["companies"]["coverage_rate"] == 1.0
    assert result["companies"]["needing_own_branch"] == 0
    assert result["owner_organizations"]["owners_committee_rate"] == 0.9454
    assert result["management"]["households_served"] == 23800


def test_three_without_ids_sort_strings_too():
    compounds = [compound("b", "none", three_without=True), compound("a", "none", three_without=True)]
    assert compute_coverage(compounds, [])["three_without"]["compound_ids"] == ["a", "b"]
