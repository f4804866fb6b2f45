"""No import cycle between top-level packages or between modules, counting imports inside
functions (scripts/check_imports.py, which CI runs through this test)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import check_imports  # noqa: E402


def test_the_project_has_no_import_cycle():
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_imports.py")], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_cycle_through_an_import_inside_a_function_is_found(tmp_path):
    _write(tmp_path, {
        "alpha/__init__.py": "",
        "alpha/one.py": "from beta.two import thing\n",
        "beta/__init__.py": "",
        "beta/two.py": "def thing():\n    from alpha import one\n    return one\n",
        "gamma.py": "import alpha.one\n",
        "tests/test_x.py": "import gamma\n",  # tests/ sit on top and are left out
    })
    lines = check_imports.report(tmp_path)
    assert "package cycle: alpha -> beta -> alpha" in lines
    assert "module cycle: alpha.one -> beta.two -> alpha.one" in lines


def test_relative_imports_and_modules_named_from_a_package_are_resolved(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from . import b\n",
        "pkg/b.py": "from pkg import a\n",
    })
    assert check_imports.report(tmp_path) == ["module cycle: pkg.a -> pkg.b -> pkg.a"]
    _write(tmp_path, {"pkg/b.py": "import os\n"})
    assert check_imports.report(tmp_path) == []


def test_domain_code_imports_neither_flask_nor_the_web_packages():
    """Only a package's http.py (or http/ package), cli.py and plugin.py face Flask; the rest is plain Python."""
    graph = check_imports.module_graph()
    offenders = []
    for module, path in check_imports.project_modules().items():
        top = module.split(".")[0]
        if top in ("app", "commands", "web", "webhooks") or path.stem in ("cli", "plugin") or "http" in module.split("."):
            continue
        text = path.read_text(encoding="utf-8")
        if "import flask" in text or "from flask" in text or any(t.split(".")[0] in ("web", "webhooks")
                                                                 for t in graph[module]):
            offenders.append(module)
    assert offenders == []


def test_every_plugin_is_loaded_by_the_app():
    import app

    plugins = {p.parent.name for p in ROOT.glob("*/plugin.py")}
    assert {p.__name__.split(".")[0] for p in app.PLUGINS} == plugins
