"""docs/ is generated from the code: the committed files must equal a fresh generation, and
the generators cover every table, column and ruleset key."""

from __future__ import annotations

import tomllib

import pytest

from pingyi_lib.dataset import schema
from pingyi_lib.output.setup_cmd import write_docs
from pingyi_lib.scheme import docs
from pingyi_lib.scheme.ruleset import default_ruleset_path, load_ruleset

from .conftest import ROOT


@pytest.mark.parametrize("name", ["data-contract.md", "ruleset.md"])
def test_committed_docs_equal_a_fresh_generation(tmp_path, name):
    write_docs(tmp_path)
    committed = ROOT / "docs" / name
    assert committed.read_text(encoding="utf-8") == (tmp_path / name).read_text(encoding="utf-8"), \
        f"docs/{name} is out of date: run `pingyi docs` and commit it"


def test_data_contract_names_every_table_and_column_in_both_languages():
    text = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    for t in schema.tables(load_ruleset()).values():
        assert f"## {t.zh}（`{t.name}`）" in text
        for c in t.columns:
            assert f"| {c.zh} | `{c.id}` |" in text, (t.name, c.id)
    for phrase in ("GB18030", "UTF-8", "round.toml", "xlsx", "reason_code", "评议单位.csv"):
        assert phrase in text


def test_every_ruleset_key_has_a_meaning_and_every_meaning_a_key():
    raw = tomllib.loads(default_ruleset_path().read_text(encoding="utf-8"))
    keys = [k for k, _ in docs.flat_keys(raw)]
    undocumented = [k for k in keys if docs.pattern_of(k) is None]
    assert not undocumented, f"describe these keys in scheme/docs.py KEY_DOCS: {undocumented}"
    unused = set(docs.KEY_DOCS) - {docs.pattern_of(k) for k in keys}
    assert not unused, f"KEY_DOCS patterns matching no key: {unused}"
    text = (ROOT / "docs" / "ruleset.md").read_text(encoding="utf-8")
    assert all(f"| `{k}` |" in text for k in keys)


def test_readme_links_the_docs_and_nothing_outside_the_repo():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme and "docs/data-contract.md" in readme and "docs/ruleset.md" in readme
