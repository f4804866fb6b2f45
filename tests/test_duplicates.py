"""No block of six identical (normalised) lines repeated in source outside tests (scripts/check_duplicates.py,
which CI runs through this test)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import check_duplicates  # noqa: E402

BLOCK = "".join(f"    total = total + value_{n} * weight_{n}\n" for n in range(6))


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_project_repeats_no_block_of_six_lines():
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_duplicates.py")], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_repeated_block_is_found_whatever_its_indentation_and_blank_lines(tmp_path):
    _write(tmp_path, {
        "alpha/one.py": "def f():\n" + BLOCK,
        "beta/two.py": "class C:\n    def g(self):\n" + BLOCK.replace("\n", "\n\n").replace("    ", "        "),
    })
    assert check_duplicates.repeats(tmp_path) == ["alpha/one.py:2-7 ~ beta/two.py:3-13"]


def test_tests_the_emulators_own_repeats_and_closing_tags_do_not_count(tmp_path):
    closing = "</td>\n</tr>\n{% endfor %}\n</tbody>\n</table>\n</div>\n"
    _write(tmp_path, {
        "alpha/one.py": "def f():\n" + BLOCK,
        "tests/test_one.py": "def test():\n" + BLOCK,
        "telephony/twin.py": "def f():\n" + BLOCK,
        "a/x.html": closing, "b/y.html": closing,
    })
    assert check_duplicates.repeats(tmp_path) == []
    _write(tmp_path, {"alpha/two.py": "# a comment line between does not hide it\n" + BLOCK[:80] + "# x\n" + BLOCK[80:]})
    assert check_duplicates.repeats(tmp_path) == ["alpha/one.py:2-7 ~ alpha/two.py:2-8"]
