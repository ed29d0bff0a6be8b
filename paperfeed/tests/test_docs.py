from paperfeed import conf
from paperfeed.docs import DOCS, cli_markdown, configuration_markdown


def test_the_settings_table_in_the_docs_is_current():
    committed = (DOCS / "configuration.md").read_text()
    assert committed == configuration_markdown(), "docs/configuration.md is stale: run `paperfeed gendocs`"


def test_the_cli_reference_in_the_docs_is_current():
    committed = (DOCS / "cli.md").read_text()
    assert committed == cli_markdown(), "docs/cli.md is stale: run `paperfeed gendocs`"


def test_every_setting_read_anywhere_is_declared():
    import re
    from pathlib import Path

    root = Path(conf.__file__).parent
    used = set()
    for path in root.rglob("*.py"):
        used |= set(re.findall(r'value\("([A-Z_]+)"', path.read_text()))
    declared = {s.name for s in conf.SETTINGS}
    assert used <= declared, f"undeclared settings: {used - declared}"
