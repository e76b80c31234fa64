"""The plan-template loader: docs/plan-templates.md, every problem with its file, line and field."""

from __future__ import annotations

import json
import textwrap
from datetime import time
from pathlib import Path

import pytest

from houqin.due_rules import parse_due
from houqin.errors import Problem, ValidationFailed
from houqin.plan_specs import Step
from houqin.plan_templates import (
    builtin_plans_dir,
    load_template_file,
    load_templates,
    template_from_dict,
)

FIXTURE = Path(__file__).parent / "data" / "plans" / "exam_week.yaml"

SWEEP = """\
- key: sweep
  title: {zh-CN: 打扫考场}
  role: environment_lead
  due: gaokao.start - 1 workdays
"""


def plan(items: str = SWEEP, *, key: str = "drill", head: str = "") -> str:
    """A minimal valid plan around the given items (YAML at item-list level)."""
    return (
        f"key: {key}\n"
        "title: {zh-CN: 演练计划}\n"
        "period: school_year\n"
        "anchors: [gaokao.start]\n"
        f"{head}"
        "phases:\n"
        "  - key: prepare\n"
        "    title: {zh-CN: 准备}\n"
        "    items:\n" + textwrap.indent(textwrap.dedent(items), "      ")
    )


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line containing needle."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def problems(path: Path) -> list[Problem]:
    with pytest.raises(ValidationFailed) as caught:
        load_template_file(path)
    return caught.value.problems


def only_problem(tmp_path: Path, text: str) -> Problem:
    path = write(tmp_path, "plan.yaml", text)
    found = problems(path)
    assert len(found) == 1, found
    assert found[0].file == str(path)
    return found[0]


# -- a good file -----------------------------------------------------------------------------


def test_a_complete_plan_file_loads_with_every_field() -> None:
    template = load_template_file(FIXTURE)

    assert (template.key, template.title_zh, template.title_en) == (
        "exam_week",
        "考试周后勤保障",
        "Exam-week logistics",
    )
    assert (template.season, template.period) == ("june", "school_year")
    assert template.anchors == ("gaokao.start", "gaokao.end")
    assert (template.due_time, template.remind, template.escalate) == (time(17, 30), (2, 0), (1, 2))
    assert template.roles["exam_patrol"].label("en") == "Night exam-room patrol"
    assert [p.key for p in template.phases] == ["prepare", "wrap_up"]
    assert [i.key for i in template.items] == ["pest_control", "night_patrol", "summary"]
    assert template.path == str(FIXTURE)
    assert len(template.version) == 16


def test_an_item_carries_its_steps_evidence_and_overrides() -> None:
    template = load_template_file(FIXTURE)

    pests, patrol, summary = template.items

    assert pests.phase == "prepare"
    assert pests.due == parse_due("gaokao.start - 1 workdays")
    assert pests.steps == (
        Step("联系消杀公司"),
        Step("对易滋生害虫的地方全面消杀", "Treat every pest-prone spot"),
    )
    assert (pests.evidence, pests.headcount, pests.source) == ("photo", 2, "篇8 一.2")
    assert (pests.remind, pests.escalate) == (None, None)  # the template's apply
    assert pests.line == line_of(FIXTURE.read_text(encoding="utf-8"), "key: pest_control")
    assert (patrol.title_en, patrol.due.at) == (None, time(21, 0))
    assert (patrol.remind, patrol.escalate, patrol.depends_on) == ((0,), (1,), ("pest_control",))
    assert (summary.phase, summary.due.kind, summary.evidence) == ("wrap_up", "month", "note")


def test_omitted_optional_fields_take_the_documented_defaults(tmp_path: Path) -> None:
    template = load_template_file(write(tmp_path, "drill.yaml", plan()))

    assert template.remind == (3, 1, 0)
    assert template.escalate == (1, 3)
    assert template.due_time == time(18, 0)
    assert template.season is None
    assert template.roles == {}
    item = template.items[0]
    assert (item.evidence, item.steps, item.headcount, item.depends_on) == ("none", (), None, ())


def test_an_unquoted_due_time_is_the_time_written_not_a_base_60_number(tmp_path: Path) -> None:
    # YAML 1.1 reads 18:30 as the integer 1110; the loader reads the text as written.
    template = load_template_file(write(tmp_path, "drill.yaml", plan(head="due_time: 18:30\n")))

    assert template.due_time == time(18, 30)


def test_titles_role_keys_and_roles_for_display() -> None:
    template = load_template_file(FIXTURE)

    assert template.title("en") == "Exam-week logistics"
    assert template.title("zh-CN") == "考试周后勤保障"
    assert template.items[1].title("en") == "考场夜间巡查"  # no English title: the Chinese one
    assert template.role_keys() == ("property_manager", "exam_patrol", "logistics_head")
    assert template.role("exam_patrol").zh == "夜间考场巡查人"
    assert template.role("logistics_head").zh == "后勤主任"
    assert template.item("summary").depends_on == ("pest_control", "night_patrol")


def test_to_dict_and_from_dict_round_trip_through_json() -> None:
    template = load_template_file(FIXTURE)

    stored = json.loads(json.dumps(template.to_dict(), ensure_ascii=False))
    again = template_from_dict(stored, template.path)

    assert again == template
    assert again.to_dict() == template.to_dict()


def test_from_dict_keeps_the_stored_version_the_ledger_refers_to() -> None:
    stored = load_template_file(FIXTURE).to_dict() | {"version": "0123456789abcdef"}

    assert template_from_dict(stored).version == "0123456789abcdef"


def test_from_dict_checks_the_dict_like_a_file() -> None:
    stored = load_template_file(FIXTURE).to_dict()
    stored["phases"][0]["items"][0]["role"] = "janitor"

    with pytest.raises(ValidationFailed) as caught:
        template_from_dict(stored, "ledger:plan_template/7")

    [problem] = caught.value.problems
    assert (problem.file, problem.line) == ("ledger:plan_template/7", None)
    assert problem.field == "phases.prepare.items.pest_control.role"


# -- the version -----------------------------------------------------------------------------


def test_version_ignores_comments_key_order_defaults_and_rule_spelling(tmp_path: Path) -> None:
    original = load_template_file(FIXTURE)
    reordered = textwrap.dedent("""\
        # The same plan, written differently.
        title: {en: Exam-week logistics, zh-CN: 考试周后勤保障}
        period: school_year   # a comment
        key: exam_week
        season: june
        escalate: [1, 2]
        remind: [2, 0]
        due_time: "17:30"
        anchors: [gaokao.start, gaokao.end]
        roles: {exam_patrol: {en: Night exam-room patrol, zh-CN: 夜间考场巡查人}}
        phases:
          - title: {zh-CN: 考前准备, en: Preparation}
            key: prepare
            items:
              - key: pest_control
                role: property_manager
                title: {zh-CN: 校园全面消杀, en: Pest control of the whole campus}
                due: gaokao.start-1 workday
                steps:
                  - {zh-CN: 联系消杀公司}
                  - {en: Treat every pest-prone spot, zh-CN: 对易滋生害虫的地方全面消杀}
                source: 篇8 一.2
                headcount: 2
                evidence: photo
              - key: night_patrol
                title: {zh-CN: 考场夜间巡查}
                role: exam_patrol
                due: gaokao.start - 1 day @ 21:00
                depends_on: [pest_control]
                escalate: [1]
                remind: [0]
          - key: wrap_up
            title: {zh-CN: 考后总结, en: Wrap-up}
            items:
              - {key: summary, title: {zh-CN: 工作总结, en: Write the summary},
                 role: logistics_head, due: month 6, evidence: note,
                 depends_on: [pest_control, night_patrol]}
        """)

    rewritten = load_template_file(write(tmp_path, "elsewhere.yaml", reordered))

    assert rewritten.version == original.version
    assert rewritten.items[0].line != original.items[0].line  # lines are not content


def test_version_changes_when_a_title_changes(tmp_path: Path) -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    changed = text.replace("en: Treat every pest-prone spot", "en: Treat every pest-prone place")

    original = load_template_file(write(tmp_path, "a.yaml", text))
    edited = load_template_file(write(tmp_path, "b.yaml", changed))

    assert edited.version != original.version
    assert original.version == load_template_file(FIXTURE).version


def test_version_changes_when_a_default_is_written_with_another_value(tmp_path: Path) -> None:
    base = load_template_file(write(tmp_path, "a.yaml", plan()))
    same = load_template_file(write(tmp_path, "b.yaml", plan(head="remind: [3, 1, 0]\n")))
    other = load_template_file(write(tmp_path, "c.yaml", plan(head="remind: [2, 0]\n")))

    assert same.version == base.version
    assert other.version != base.version


# -- one problem each, with its file, line and field ------------------------------------------


def test_a_misspelt_field_is_reported_with_a_suggestion(tmp_path: Path) -> None:
    text = plan(SWEEP + "  tittle: {zh-CN: 重复}\n")

    problem = only_problem(tmp_path, text)

    assert problem.line == line_of(text, "tittle")
    assert problem.field == "phases.prepare.items.sweep.tittle"
    assert problem.message == "unknown field 'tittle' (did you mean 'title'?)"


def test_an_unknown_role_is_reported_at_the_role(tmp_path: Path) -> None:
    text = plan(SWEEP.replace("environment_lead", "janitor"))

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.field) == (
        line_of(text, "janitor"),
        "phases.prepare.items.sweep.role",
    )
    assert problem.message.startswith("unknown role 'janitor'")
    assert "declare it under roles:" in problem.message


def test_a_role_declared_in_the_file_may_be_used(tmp_path: Path) -> None:
    head = "roles:\n  janitor: {zh-CN: 保洁员}\n"

    template = load_template_file(
        write(tmp_path, "p.yaml", plan(SWEEP.replace("environment_lead", "janitor"), head=head))
    )

    assert template.role("janitor").label("en") == "保洁员"  # no English label given


def test_a_declared_role_may_not_redefine_a_built_in_one(tmp_path: Path) -> None:
    text = plan(head="roles:\n  gate_guard: {zh-CN: 门岗}\n")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.field) == (line_of(text, "gate_guard"), "roles.gate_guard")


def test_a_dependency_cycle_is_reported_once_at_its_first_item(tmp_path: Path) -> None:
    items = """\
    - {key: first, title: {zh-CN: 一}, role: clinic, due: 06-01, depends_on: [second]}
    - {key: second, title: {zh-CN: 二}, role: clinic, due: 06-02, depends_on: [third]}
    - {key: third, title: {zh-CN: 三}, role: clinic, due: 06-03, depends_on: [second]}
    """
    text = plan(items)

    problem = only_problem(tmp_path, text)

    assert problem.line == line_of(text, "key: second")
    assert problem.field == "phases.prepare.items.second.depends_on"
    assert problem.message == "dependency cycle: second -> third -> second"


def test_an_item_that_depends_on_itself_is_a_cycle(tmp_path: Path) -> None:
    text = plan(SWEEP + "  depends_on: [sweep]\n")

    assert only_problem(tmp_path, text).message == "dependency cycle: sweep -> sweep"


def test_a_dependency_on_an_unknown_item_names_it(tmp_path: Path) -> None:
    text = plan(SWEEP + "  depends_on: [swep]\n")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.field) == (
        line_of(text, "swep]"),
        "phases.prepare.items.sweep.depends_on",
    )
    assert problem.message == "no item 'swep' in this plan (did you mean 'sweep'?)"


def test_a_date_that_does_not_exist_is_reported_at_the_due_rule(tmp_path: Path) -> None:
    text = plan(SWEEP.replace("gaokao.start - 1 workdays", "02-30"))

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.field) == (
        line_of(text, "02-30"),
        "phases.prepare.items.sweep.due",
    )
    assert problem.message == "in '02-30': month 2 has no day 30"


def test_an_unknown_anchor_in_anchors_is_reported_with_a_suggestion(tmp_path: Path) -> None:
    text = plan().replace("anchors: [gaokao.start]", "anchors: [gaokao.start, gaokao.begin]")

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.field) == (line_of(text, "anchors:"), "anchors")
    assert problem.message == "unknown anchor 'gaokao.begin' (did you mean 'gaokao.end'?)"


def test_an_anchor_a_rule_uses_must_be_listed_in_anchors(tmp_path: Path) -> None:
    text = plan(SWEEP.replace("gaokao.start", "zhongkao.start"))

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.field) == (
        line_of(text, "zhongkao"),
        "phases.prepare.items.sweep.due",
    )
    assert problem.message == "anchor zhongkao.start is not listed in anchors:"


def test_a_misspelt_anchor_in_a_rule_is_a_bad_due_rule(tmp_path: Path) -> None:
    text = plan(SWEEP.replace("gaokao.start", "gaokoa.start"))

    problem = only_problem(tmp_path, text)

    assert problem.field == "phases.prepare.items.sweep.due"
    assert "unknown anchor 'gaokoa.start'; did you mean gaokao.start?" in problem.message


def test_term_anchors_need_a_term_period(tmp_path: Path) -> None:
    text = plan(SWEEP.replace("gaokao.start", "term.start")).replace(
        "anchors: [gaokao.start]", "anchors: [term.start]"
    )

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.field) == (line_of(text, "anchors:"), "anchors")
    assert problem.message == "term.start needs period autumn_term or spring_term"
    assert (
        load_template_file(
            write(tmp_path, "term.yaml", text.replace("school_year", "autumn_term"))
        ).period
        == "autumn_term"
    )


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("  evidence: video", "evidence", "'video' is not one of: none, note, number, photo"),
        ("  headcount: 0", "headcount", "must be positive"),
        ("  headcount: two", "headcount", "expected a whole number, found 'two'"),
        ("  remind: 3", "remind", "expected a list of working days, found '3'"),
        ("  remind: [1, -1]", "remind[1]", "must be at least 0"),
        ("  remind: [1, 1]", "remind", "a day is listed twice"),
        ("  escalate: [3, 1]", "escalate", "escalation days must increase"),
        ("  escalate: [1, 2, 3]", "escalate", "at most two escalation levels"),
        ("  steps: 扫地", "steps", "expected a list, found '扫地'"),
        ("  steps: [{zh-CN: 扫地, note: x}]", "steps[0].note", "unknown field 'note'"),
        ("  depends_on: sweep", "depends_on", "expected a list, found 'sweep'"),
        ("  source: [a, b]", "source", "expected text, found a list"),
        ("  title: {zh-CN: 又一个}", "title", "field given twice (first at line 10)"),
    ],
)
def test_a_bad_item_value_is_reported_at_its_line(
    tmp_path: Path, line: str, field: str, message: str
) -> None:
    text = plan(SWEEP + line + "\n")

    problem = only_problem(tmp_path, text)

    assert problem.line == line_of(text, line.strip())
    assert problem.field == f"phases.prepare.items.sweep.{field}"
    assert message in problem.message


@pytest.mark.parametrize(
    ("head", "field", "message"),
    [
        ("due_time: '6pm'\n", "due_time", "time '6pm' is not HH:MM"),
        ("due_time: '24:00'\n", "due_time", "time '24:00' does not exist"),
        ("season: autumn\n", "season", "'autumn' is not one of: january"),
        ("escalate: [-1]\n", "escalate[0]", "must be at least 0"),
        ("remind: {t: 3}\n", "remind", "expected a list of working days, found a mapping"),
        ("roles: [janitor]\n", "roles", "expected a mapping, found a list"),
    ],
)
def test_a_bad_plan_value_is_reported_at_its_line(
    tmp_path: Path, head: str, field: str, message: str
) -> None:
    text = plan(head=head)

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.field) == (line_of(text, head.strip()), field)
    assert message in problem.message


def test_key_format_is_checked_for_plans_phases_and_items(tmp_path: Path) -> None:
    text = plan(SWEEP.replace("key: sweep", "key: Sweep-1"), key="2drill").replace(
        "key: prepare", "key: pre pare"
    )

    found = problems(write(tmp_path, "p.yaml", text))

    assert [(p.line, p.field) for p in found] == [
        (1, "key"),
        (line_of(text, "pre pare"), "phases[0].key"),
        (line_of(text, "Sweep-1"), "phases[0].items[0].key"),
    ]
    assert found[0].message == "key '2drill' must match [a-z][a-z0-9_]*"


def test_duplicate_phase_and_item_keys_point_back_to_the_first(tmp_path: Path) -> None:
    text = plan(SWEEP + SWEEP) + (
        "  - key: prepare\n    title: {zh-CN: 又准备}\n    items:\n"
        + textwrap.indent(SWEEP.replace("sweep", "mop"), "      ")
    )
    first_sweep = line_of(text, "key: sweep")

    found = problems(write(tmp_path, "p.yaml", text))

    assert [(p.field, p.message) for p in found] == [
        (
            "phases.prepare.items[1].key",
            f"duplicate item key 'sweep' (first at line {first_sweep})",
        ),
        ("phases[1].key", "duplicate phase key 'prepare' (first at line 6)"),
    ]


def test_missing_required_fields_are_each_reported(tmp_path: Path) -> None:
    text = "title: {en: Drill}\nphases:\n  - key: prepare\n    title: {zh-CN: 准备}\n" + (
        "    items:\n      - key: sweep\n        title: {zh-CN: 打扫}\n"
    )

    found = problems(write(tmp_path, "p.yaml", text))

    assert [(p.line, p.field, p.message) for p in found] == [
        (1, "key", "missing required field"),
        (1, "period", "missing required field"),
        (1, "title.zh-CN", "missing required field"),
        (6, "phases.prepare.items.sweep.role", "missing required field"),
        (6, "phases.prepare.items.sweep.due", "missing required field"),
    ]


def test_a_comma_inside_a_flow_mapping_is_explained(tmp_path: Path) -> None:
    text = plan(SWEEP.replace("{zh-CN: 打扫考场}", "{zh-CN: 打扫考场, 整理桌椅}"))

    problem = only_problem(tmp_path, text)

    assert (problem.line, problem.field) == (
        line_of(text, "整理桌椅"),
        "phases.prepare.items.sweep.title.整理桌椅",
    )
    assert "a comma inside {...} cut the text before '整理桌椅'" in problem.message


def test_a_yaml_syntax_error_carries_its_line(tmp_path: Path) -> None:
    text = plan() + "  - key: [unclosed\n"

    problem = only_problem(tmp_path, text)

    assert problem.line == text.count("\n") + 1  # the parser notices at the end of the file
    assert problem.message.startswith("YAML syntax error")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- key: drill\n", "expected a plan template (a mapping of fields), found a list"),
        ("just text\n", "expected a plan template (a mapping of fields), found 'just text'"),
        ("# only a comment\n", "the file is empty"),
    ],
)
def test_a_file_that_is_not_a_plan_is_reported(tmp_path: Path, text: str, message: str) -> None:
    assert only_problem(tmp_path, text).message == message


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    bad = SWEEP.replace("environment_lead", "janitor").replace("gaokao.start - 1 workdays", "02-30")
    text = plan(bad + "  evidence: video\n", head="season: autumn\n")

    found = problems(write(tmp_path, "p.yaml", text))

    assert [p.field for p in found] == [
        "season",
        "phases.prepare.items.sweep.role",
        "phases.prepare.items.sweep.due",
        "phases.prepare.items.sweep.evidence",
    ]


# -- several files ---------------------------------------------------------------------------


def test_problems_in_several_files_are_all_reported(tmp_path: Path) -> None:
    one = write(tmp_path, "one.yaml", plan(SWEEP.replace("environment_lead", "janitor"), key="one"))
    two = write(
        tmp_path, "two.yaml", plan(SWEEP.replace("gaokao.start - 1 workdays", "02-30"), key="two")
    )
    three = write(tmp_path, "three.yaml", "key: [\n")

    with pytest.raises(ValidationFailed) as caught:
        load_templates([one, two, three])

    assert [(p.file, p.field) for p in caught.value.problems] == [
        (str(one), "phases.prepare.items.sweep.role"),
        (str(two), "phases.prepare.items.sweep.due"),
        (str(three), ""),
    ]
    assert str(caught.value).splitlines()[0].startswith(f"{one}:{line_of(plan(), 'role:')}: ")


def test_one_bad_file_of_three_loads_nothing(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", plan(key="alpha"))
    write(tmp_path, "b.yaml", plan(key="beta", head="due_time: noon\n"))
    write(tmp_path, "c.yaml", plan(key="gamma"))
    loaded = None

    with pytest.raises(ValidationFailed) as caught:
        loaded = load_templates([tmp_path])

    assert loaded is None
    assert [p.file for p in caught.value.problems] == [str(tmp_path / "b.yaml")]


def test_a_directory_loads_its_yaml_files_by_key(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", plan(key="beta"))
    write(tmp_path, "a.yaml", plan(key="alpha"))
    write(tmp_path, "notes.txt", "not a plan")

    loaded = load_templates([tmp_path, FIXTURE])

    assert list(loaded) == ["alpha", "beta", "exam_week"]
    assert loaded["alpha"].path == str(tmp_path / "a.yaml")


def test_a_file_named_twice_is_loaded_once(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", plan(key="alpha"))

    assert list(load_templates([tmp_path, path])) == ["alpha"]


def test_a_template_key_used_by_two_files_is_reported_at_the_second(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", plan(key="drill"))
    second = write(tmp_path, "b.yaml", "# the same key again\n" + plan(key="drill"))

    with pytest.raises(ValidationFailed) as caught:
        load_templates([tmp_path])

    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (str(second), 2, "key")
    assert problem.message == f"template key 'drill' is already used by {first}:1"


def test_a_missing_path_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as caught:
        load_templates([tmp_path / "nope.yaml"])

    assert caught.value.problems == [
        Problem(str(tmp_path / "nope.yaml"), None, "", "no such file or directory")
    ]


def test_the_built_in_plans_live_in_the_repository_plans_directory() -> None:
    assert builtin_plans_dir() == Path(__file__).resolve().parent.parent / "plans"
