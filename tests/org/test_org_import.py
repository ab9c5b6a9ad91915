import pytest
from factories import fill_in_samples
from openpyxl import load_workbook
from sqlalchemy import func, select

from lianchuang.errors import ImportRefused, UserError
from lianchuang.models import Community, Person, Unit
from lianchuang.models.db import session_scope
from lianchuang.tasks.org import load_org, org_overview, parse_workbook, write_org_template


def filled_template(tmp_path, edit=None):
    path = tmp_path / "org.xlsx"
    write_org_template(path, force=True)  # this test fills the same file in again
    fill_in_samples(path)
    if edit:
        book = load_workbook(path)
        edit(book)
        book.save(path)
    return path


def import_file(path):
    with session_scope() as session:
        return load_org(session, parse_workbook(session, path))


def count(model):
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_template_example_imports_and_lists(settings, tmp_path):
    counts = import_file(filled_template(tmp_path))
    assert counts == dict(districts=1, streets=1, communities=1, units=2, people=2)
    with session_scope() as session:
        overview = org_overview(session)
        person = session.scalars(select(Person).where(Person.code == "P0002")).one()
    assert overview == [dict(district="梅列区", street="列东街道", code="S01C01", community="江滨社区", units=2, people=2)]
    assert person.email is None and person.phone == "13800000000"  # a resident without email is allowed


def test_importing_the_same_file_twice_adds_nothing(settings, tmp_path):
    path = filled_template(tmp_path)
    import_file(path)
    import_file(path)
    assert (count(Community), count(Unit), count(Person)) == (1, 2, 2)


def test_a_corrected_name_updates_the_row(settings, tmp_path):
    import_file(filled_template(tmp_path))
    import_file(filled_template(tmp_path, lambda book: book["社区"].cell(2, 2, "江滨新社区")))
    with session_scope() as session:
        assert session.scalars(select(Community.name)).all() == ["江滨新社区"]


def test_a_bad_workbook_is_refused_whole_with_every_problem_located(settings, tmp_path):
    def spoil(book):
        book["单位"].cell(3, 3, "外星单位")  # unknown kind
        book["单位"].cell(3, 4, "不存在社区")  # unknown community
        book["人员"].cell(2, 8, "not-an-email")  # invalid email
        book["人员"].append(["P0001", "重复", "热心居民", "S01C01"])  # duplicate code

    with pytest.raises(ImportRefused) as refused:
        import_file(filled_template(tmp_path, spoil))
    problems = {(p.file, p.row, p.column) for p in refused.value.problems}
    assert ("org.xlsx/单位", 3, "类别") in problems
    assert ("org.xlsx/单位", 3, "所在社区") in problems
    assert ("org.xlsx/人员", 2, "电子邮箱") in problems
    assert ("org.xlsx/人员", 4, "人员编码") in problems
    assert count(Community) == 0 and count(Person) == 0  # nothing written


def test_a_file_that_is_not_a_spreadsheet_gets_a_clear_reason(settings, tmp_path):
    path = tmp_path / "org.xlsx"
    path.write_text("this is not excel")
    with pytest.raises(UserError, match="不是有效的 Excel"):
        import_file(path)


def test_a_missing_sheet_is_reported(settings, tmp_path):
    with pytest.raises(ImportRefused, match="缺少工作表"):
        import_file(filled_template(tmp_path, lambda book: book.remove(book["人员"])))


def test_the_demo_province_names_its_5000_communities_uniquely_and_briefly():
    from lianchuang.tasks.demo.data import SCALES, generate_org

    names = [community["name"] for community in generate_org(SCALES["province"]).communities]
    assert len(set(names)) == 5000
    assert max(map(len, names)) <= 8  # repeated words are numbered (江滨第2社区), not grown (江滨二二…社区)
