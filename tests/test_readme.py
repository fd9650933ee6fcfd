"""The README is part of the product: its config table and commands must stay true."""

from pathlib import Path

from offline.__main__ import README_BEGIN, README_END, config_table

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_config_table_documents_every_key_as_the_schema_does():
    text = (ROOT / "README.md").read_text()
    documented = text.split(README_BEGIN, 1)[1].split(README_END, 1)[0].strip()
    assert documented == config_table().strip(), "README config table is stale: run `make docs`"


def test_the_readme_commands_are_the_makefile_targets_ci_runs():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make render" in readme and "make test" in readme
    assert "\nrender:" in makefile and "\ntest:" in makefile
    assert "$(PY) -m offline render --stack $(STACK) --out $(OUT)" in makefile
    assert "make test" in ci and "make render" in ci


def test_the_readme_component_example_runs_and_creates_what_it_describes():
    import re

    from offline.engine import run

    code = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    recording = run(lambda: exec(code, {}))
    kinds = {(o["kind"], o["metadata"]["name"]) for o in recording.k8s_objects()}
    assert {("Deployment", "web"), ("Service", "web"), ("PodDisruptionBudget", "web")} <= kinds
    assert recording.k8s("Service", "web", "shop")["spec"]["type"] == "LoadBalancer"
