"""Reading and checking each spec file (generator/spec/files.py): where an unreadable file is
reported, a file with two problems in one place, what the schema check leaves to the cross-file
checks, and a file too large to parse that comes from a git revision."""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.errors import SpecError
from generator.spec.files import _suffix, read_spec_dir
from generator.spec.model import load_spec, parse_spec
from generator.yamlio import MAX_FILE_BYTES
from tests.conftest import edit_spec, spec_problems

NOT_IN_ORDER = (
    "environments/qa.yaml:1:1: environment 'qa' is not in promotion.order of "
    "environments/_project.yaml; add it there or remove this file"
)


# --- where a byte that is not UTF-8 is ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"namespace: d\xe9mo\n", "1:13"),
        # The line starts after the last newline before the byte, not the first.
        (b"# a\n# b\nnamespace: d\xe9mo\n", "3:13"),
        # A newline as the very first byte counts.
        (b"\nnamespace: d\xe9mo\n", "2:13"),
        # The column counts characters: the two bytes of the e-acute before it are one.
        (b"namespace: d\xc3\xa9\xe9mo\n", "1:14"),
    ],
)
def test_a_byte_that_is_not_utf_8_is_located(example_repo: Path, data: bytes, where: str) -> None:
    (example_repo / "environments" / "demo.yaml").write_bytes(data)
    assert spec_problems(example_repo) == [
        f"environments/demo.yaml:{where}: is not UTF-8 text (byte 0xe9); save the file as UTF-8"
    ]


# --- a new file with a problem of its own, and not in promotion.order ----------------------------
# Both problems are reported, sorted by place: a file-level problem (no line) first, then one at
# 1:1, in the order they were found.


def _link_outside(root: Path) -> None:
    outside = root.parent / "outside.yaml"
    outside.write_text("namespace: qa\n")
    (root / "environments" / "qa.yaml").symlink_to(outside)


def _too_large(root: Path) -> None:
    with (root / "environments" / "qa.yaml").open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)


@pytest.mark.parametrize(
    ("arrange", "first"),
    [
        # A UTF-16 file, as some editors save: its byte-order mark is the first byte.
        (
            lambda root: (root / "environments" / "qa.yaml").write_bytes(
                "namespace: qa\n".encode("utf-16")
            ),
            "environments/qa.yaml:1:1: is not UTF-8 text (byte 0xff); save the file as UTF-8",
        ),
        (
            lambda root: (root / "environments" / "qa.yaml").write_text(""),
            "environments/qa.yaml:1:1: the environment is empty; write {} for an empty environment",
        ),
        (
            lambda root: (root / "environments" / "qa.yaml").write_text("]\n"),
            "environments/qa.yaml:1:1: invalid YAML: expected the node content, but found ']'",
        ),
        (_link_outside, "environments/qa.yaml: is a link to outside the repository; refused"),
        (_too_large, "environments/qa.yaml: is larger than 8 MiB; refused"),
    ],
    ids=["utf-16", "empty", "invalid-yaml", "linked-outside", "too-large"],
)
def test_a_new_file_with_a_problem_is_also_not_in_the_order(
    example_repo: Path, arrange: object, first: str
) -> None:
    arrange(example_repo)  # type: ignore[operator]
    assert spec_problems(example_repo) == [first, NOT_IN_ORDER]


# --- what a schema problem leaves to the cross-file checks ----------------------------------------


def _project_name_a_number(root: Path) -> None:
    edit_spec(root, "_project.yaml", "  name: serviceradar\n", "  name: 5\n")


def _order_a_string(root: Path) -> None:
    edit_spec(root, "_project.yaml", "order: [staging, demo, prod]", "order: staging")


def _promotion_a_number(root: Path) -> None:
    project = root / "environments" / "_project.yaml"
    text = project.read_text()
    project.write_text(text[: text.index("promotion:\n")] + "promotion: 5\n")


@pytest.mark.parametrize(
    ("arrange", "problem"),
    [
        # Below what the project is built from.
        (
            _project_name_a_number,
            "environments/_project.yaml:6:9: project.name: must be a string, not a number; quote it to make it a string",
        ),
        # The order itself.
        (
            _order_a_string,
            "environments/_project.yaml:114:10: promotion.order: must be a list, not a string",
        ),
        # Above the order and the gates.
        (
            _promotion_a_number,
            "environments/_project.yaml:112:12: promotion: must be a map, not a number",
        ),
    ],
    ids=["project-name", "order", "promotion"],
)
def test_a_schema_problem_is_said_once(example_repo: Path, arrange: object, problem: str) -> None:
    """The cross-file checks skip what failed the schema, and what lies above or below it."""
    arrange(example_repo)  # type: ignore[operator]
    assert spec_problems(example_repo) == [problem]


# --- the readers that stop before parsing ----------------------------------------------------------


def test_bump_refuses_a_spec_it_cannot_read(example_repo: Path) -> None:
    (example_repo / "environments" / "qa.yml").write_text("namespace: qa\n")
    result = CliRunner().invoke(main, ["-C", str(example_repo), "bump", "1.0.76"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: 1 problem in environments/:\n"
        "  environments/qa.yml: spec files end in .yaml; rename it\n"
    )


def test_a_file_too_large_at_a_revision_is_refused_before_parsing(example_repo: Path) -> None:
    """From git (diff, publish) no size was checked on disk. A file the fast reader leaves to
    ruamel (here: one with an alias) is refused by the loader unread, as the whole file."""
    files = {
        str(path.relative_to(example_repo)): path.read_text()
        for path in (example_repo / "environments").iterdir()
    }
    files["environments/demo.yaml"] = "a: &x 1\nb: *x\n" + "#" * MAX_FILE_BYTES + "\n"
    with pytest.raises(SpecError) as info:
        parse_spec(files)
    assert [str(p) for p in info.value.problems] == [
        "environments/demo.yaml: file is larger than 8 MiB; split it or move data out of the spec"
    ]


def _cut_promotion(root: Path) -> None:
    project = root / "environments" / "_project.yaml"
    text = project.read_text()
    project.write_text(text[: text.index("promotion:\n")])


def test_a_missing_top_level_key_leaves_the_rest_checked(example_repo: Path) -> None:
    """Only the missing key is broken: the apps beside it are still checked."""
    _cut_promotion(example_repo)
    edit_spec(
        example_repo, "_project.yaml", "apps:\n  serviceradar:\n", "apps:\n  Service_Radar:\n"
    )
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:1:1: 'promotion' is required",
        "environments/_project.yaml:22:3: apps.Service_Radar: app name 'Service_Radar' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
    ]


def test_a_missing_key_does_not_unbreak_what_failed_before(example_repo: Path) -> None:
    edit_spec(example_repo, "_project.yaml", "    secretRef: github-app-promoter\n", "")
    edit_spec(example_repo, "_project.yaml", "order: [staging, demo, prod]", "order: staging")
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:10:3: project.scm: 'secretRef' is required",
        "environments/_project.yaml:113:10: promotion.order: must be a list, not a string",
    ]


def test_a_missing_key_found_later_keeps_what_failed_earlier_broken(example_repo: Path) -> None:
    """jsonschema reports project before promotion: the missing order must not unmark the name."""
    edit_spec(example_repo, "_project.yaml", "  name: serviceradar\n", "  name: 5\n")
    edit_spec(example_repo, "_project.yaml", "  order: [staging, demo, prod]\n", "")
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:6:9: project.name: must be a string, not a number; quote it to make it a string",
        "environments/_project.yaml:112:1: promotion: 'order' is required",
    ]


# --- keys and integers the schema cannot see --------------------------------------------------------


def test_a_non_string_key_inside_a_list_is_found(example_repo: Path) -> None:
    edit_spec(
        example_repo,
        "demo.yaml",
        "      namespace: demo\n",
        "      namespace: demo\n      list: [{1: a}]\n",
    )
    assert spec_problems(example_repo) == [
        "environments/demo.yaml:8:15: apps.serviceradar.values.list[0][1]: keys must be strings; quote the key"
    ]


def test_unknown_keys_of_mixed_types_are_each_reported(example_repo: Path) -> None:
    edit_spec(
        example_repo,
        "staging.yaml",
        "namespace: demo-staging\n",
        "namespace: demo-staging\n5: x\nzzz: 1\n",
    )
    allowed = (
        "(allowed here: apps, autoMerge, destination, gates, ignoreDifferences, namespace, sync)"
    )
    assert spec_problems(example_repo) == [
        f"environments/staging.yaml:4:1: [5]: unknown key {allowed}",
        "environments/staging.yaml:4:1: [5]: keys must be strings; quote the key",
        f"environments/staging.yaml:5:1: zzz: unknown key {allowed}",
    ]


BIG = 2**53
TOO_BIG = (
    f"{BIG} is outside ±(2^53-1): Helm and Argo CD read values as float64 and would change it; "
    f'quote it to pass it exactly, as a string: "{BIG}"'
)


def test_only_the_integer_beyond_the_bounds_is_reported(example_repo: Path) -> None:
    """With one unsafe integer in the file, the bounds themselves are still safe."""
    edit_spec(
        example_repo,
        "demo.yaml",
        "      namespace: demo\n",
        f"      namespace: demo\n      id: {BIG}\n      top: {BIG - 1}\n      bottom: {-(BIG - 1)}\n",
    )
    assert spec_problems(example_repo) == [
        f"environments/demo.yaml:8:11: apps.serviceradar.values.id: {TOO_BIG}"
    ]


def test_defaults_in_an_environment_file_are_not_values(example_repo: Path) -> None:
    """Only the project file has defaults.apps: in an environment file it is an unknown key."""
    edit_spec(
        example_repo,
        "staging.yaml",
        "namespace: demo-staging\n",
        f"namespace: demo-staging\ndefaults: {{apps: {{serviceradar: {{values: {{id: {BIG}}}}}}}}}\n",
    )
    assert spec_problems(example_repo) == [
        "environments/staging.yaml:4:1: defaults: unknown key (allowed here: apps, autoMerge, destination, gates, ignoreDifferences, namespace, sync)"
    ]


def test_a_big_integer_where_a_map_belongs_is_a_type_problem(example_repo: Path) -> None:
    project = example_repo / "environments" / "_project.yaml"
    text = project.read_text()
    start, end = text.index("defaults:\n"), text.index("promotion:\n")
    project.write_text(text[:start] + f"defaults: [{BIG}]\n" + text[end:])
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:89:1: defaults: must be a map, not a list"
    ]


def test_defaults_apps_are_checked_when_apps_is_not_a_map(example_repo: Path) -> None:
    project = example_repo / "environments" / "_project.yaml"
    text = project.read_text()
    text = text[: text.index("apps:\n")] + "apps: []\n" + text[text.index("defaults:\n") :]
    defaults = f"defaults:\n  apps:\n    serviceradar:\n      values:\n        id: {BIG}\n"
    project.write_text(text.replace("defaults:\n", defaults, 1))
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:21:1: apps: must be a map, not a list",
        f"environments/_project.yaml:26:13: defaults.apps.serviceradar.values.id: {TOO_BIG}",
    ]


def test_an_app_that_is_not_a_map_beside_a_big_integer(example_repo: Path) -> None:
    edit_spec(
        example_repo,
        "staging.yaml",
        "apps:\n  serviceradar:\n",
        "apps:\n  other: 5\n  serviceradar:\n",
    )
    edit_spec(
        example_repo,
        "staging.yaml",
        "      namespace: demo-staging\n",
        f"      namespace: demo-staging\n      id: {BIG}\n",
    )
    assert spec_problems(example_repo) == [
        "environments/staging.yaml:8:10: apps.other: must be a map or null, not a number",
        "environments/staging.yaml:8:10: apps.other: app 'other' is not defined in apps of _project.yaml",
        f"environments/staging.yaml:14:11: apps.serviceradar.values.id: {TOO_BIG}",
    ]


def test_a_file_of_exactly_the_size_limit_is_read(example_repo: Path) -> None:
    demo = example_repo / "environments" / "demo.yaml"
    text = demo.read_text()
    padding = MAX_FILE_BYTES - len(text.encode()) - 1
    demo.write_text(text + "#" * padding + "\n")
    assert demo.stat().st_size == MAX_FILE_BYTES
    assert load_spec(example_repo).environment("demo").namespace == "demo"


def test_links_inside_the_repository_are_read_and_dot_names_skipped(example_repo: Path) -> None:
    """environments/ as a link to a folder inside the repository, a spec file linked to a file
    inside it, and names whose only dot starts or ends them (no suffix, so not spec files)."""
    root = example_repo
    os.rename(root / "environments", root / "spec-real")
    (root / "environments").symlink_to("spec-real", target_is_directory=True)
    (root / "spec-real" / "demo.yaml").rename(root / "demo-elsewhere.yaml")
    (root / "spec-real" / "demo.yaml").symlink_to(root / "demo-elsewhere.yaml")
    (root / "spec-real" / ".yaml").write_text("]\n")
    (root / "spec-real" / "notes.").write_text("]\n")
    files, problems = read_spec_dir(root)
    assert problems == []
    assert sorted(files) == [
        f"environments/{n}.yaml" for n in ("_project", "demo", "prod", "staging")
    ]
    assert files["environments/demo.yaml"] == (root / "demo-elsewhere.yaml").read_text()


@pytest.mark.parametrize(
    "name",
    ["a.yaml", ".yaml", "a.", ".", "..", "..yaml", "a.b.yaml", "a", "a..", ".a.yml", "", "a.b"],
)
def test_a_suffix_is_the_one_pathlib_gives(name: str) -> None:
    assert _suffix(name) == PurePosixPath(name).suffix


def _render(root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "render"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_a_link_that_loops_is_a_problem_not_a_traceback(example_repo: Path) -> None:
    (example_repo / "environments" / "qa.yaml").symlink_to("qa.yaml")
    before = sorted(p.name for p in example_repo.iterdir())
    code, out = _render(example_repo)
    assert code == 2, out
    assert "environments/qa.yaml: is a link that loops; point it at a file" in out
    assert sorted(p.name for p in example_repo.iterdir()) == before


@pytest.mark.parametrize("rendered", [True, False], ids=["rendered", "first-render"])
def test_a_spec_file_that_cannot_be_read_is_a_located_problem(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, rendered: bool
) -> None:
    """An OSError reading a spec file (here EACCES, as for a file without read rights, which root
    never sees) is the file's problem: exit 2 on both paths, nothing written."""
    import builtins
    import errno

    import generator.spec.files as spec_files

    if not rendered:
        shutil.rmtree(example_repo / "rendered")
    before = sorted(p.name for p in example_repo.iterdir())
    tree = sorted((example_repo / "rendered").rglob("*")) if rendered else []

    def refusing(path: Any, *args: Any, **kwargs: Any) -> Any:
        if str(path).endswith("environments/demo.yaml"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(spec_files, "open", refusing, raising=False)
    code, out = _render(example_repo)
    assert code == 2, out
    assert (
        "environments/demo.yaml: cannot be read (Permission denied); check the file and its rights"
        in out
    )
    assert sorted(p.name for p in example_repo.iterdir()) == before
    if rendered:
        assert sorted((example_repo / "rendered").rglob("*")) == tree


def test_an_os_error_without_an_errno_is_said_with_its_text(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OSError may come without an errno (raised by a layer above the system call): its text
    is the reason, and it is still the file's problem, not a traceback."""
    import builtins

    import generator.spec.files as spec_files

    def failing(path: Any, *args: Any, **kwargs: Any) -> Any:
        if str(path).endswith("environments/demo.yaml"):
            raise OSError("the volume went away")
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(spec_files, "open", failing, raising=False)
    files, problems = read_spec_dir(example_repo)
    assert [str(p) for p in problems] == [
        "environments/demo.yaml: cannot be read (the volume went away); check the file and its rights"
    ]
    assert "environments/demo.yaml" not in files


def test_a_problem_with_a_whole_file_or_folder_has_no_place_in_it(example_repo: Path) -> None:
    """A file that cannot be read, a .yml name and a missing environments/ are problems with the
    file itself: no line, no column (both 0, as for every unlocated problem) and no path."""
    from generator.errors import Problem

    envs = example_repo / "environments"
    (envs / "qa.yaml").mkdir()
    (envs / "test.yml").write_text("namespace: test\n")
    _, problems = read_spec_dir(example_repo)
    assert problems == [
        Problem("environments/qa.yaml", 0, 0, "", "is not a regular file"),
        Problem("environments/test.yml", 0, 0, "", "spec files end in .yaml; rename it"),
    ]
    shutil.rmtree(envs)
    with pytest.raises(SpecError) as info:
        read_spec_dir(example_repo)
    assert info.value.problems == (
        Problem("environments", 0, 0, "", "not found; create it (gitops-gen init) or pass -C DIR"),
    )


def test_an_environments_folder_that_cannot_be_read_is_a_problem(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder itself refused (EACCES, which root never sees): exit 2, nothing written."""
    import errno

    real = os.scandir
    spec_dir = str(example_repo / "environments")

    def refusing(path: Any = ".") -> Any:
        if str(path) == spec_dir:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path)

    tree = sorted((example_repo / "rendered").rglob("*"))
    monkeypatch.setattr(os, "scandir", refusing)
    code, out = _render(example_repo)
    monkeypatch.undo()
    assert code == 2, out
    assert "environments: cannot be read (Permission denied); check the folder's rights" in out
    assert sorted((example_repo / "rendered").rglob("*")) == tree
