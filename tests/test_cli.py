"""Every user error: one line on stderr, exit status 2, no traceback; through the API too."""

import json
import subprocess
import sys

import pytest

import symgrad


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize(
    "args, message",
    [
        (["matmul", "-m", "0"], "a size must be a positive integer or a name such as m, got '0'"),
        (["matmul", "-k", "-3"], "a size must be a positive integer"),
        (["matmul", "-n", "2.5"], "a size must be a positive integer or a name such as m, got '2.5'"),
        (["matmul", "-n", "two"], "give all three sizes as integers, or all three as names"),
        (["matmul", "-m", "m", "-k", "k", "-n", "n", "--validate"], "--emit-code and --validate need concrete sizes"),
        (["matmul", "--pick-a", "3,1"], "pick 3,1 is outside A, which is 2×4"),
        (["matmul", "--pick-b", "1,4"], "pick 1,4 is outside B, which is 4×3"),
        (["matmul", "--pick-a", "1"], "a pick is two 1-based indices"),
        (["matmul", "--loss", "max"], "unknown loss 'max'"),
        (["matmul", "--format", "pdf"], "unknown format pdf"),
        (["matmul", "--date", "yesterday"], "date must be YYYY-MM-DD"),
        (["matmul", "--letters", "aab"], "letters must be three different letters"),
        (["matmul", "--display-limit", "1", "--format", "tex"], "display limit must be an integer of at least 3"),
        (["divide"], "invalid choice: 'divide'"),
        (["matmul", "--title", " "], "the title must not be empty"),
        (["conv2d", "--pick-x", "1,1"], "a pick is four 1-based indices such as 1,1,2,2"),
    ],
)
@pytest.mark.slow
def test_errors_are_one_line_and_exit_2(args, message, tmp_path):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symgrad: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.slow
def test_unwritable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("mine")
    result = run("matmul", "--out", str(blocker / "sub"))
    assert result.returncode == 2 and "cannot create the output folder" in result.stderr
    assert blocker.read_text() == "mine"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: symgrad.matmul(0, 2, 2), "size m must be a positive integer, got 0"),
        (lambda: symgrad.matmul(2, 2.5, 2), "size k must be a positive integer"),
        (lambda: symgrad.matmul(2, 2, True), "size n must be a positive integer"),
        (lambda: symgrad.matmul(2, 2, 2, loss="max"), "unknown loss 'max'"),
        (lambda: symgrad.matmul(2, 2, 2, pick_a=(0, 1)), "pick 0,1 is outside A"),
        (lambda: symgrad.matmul(2, 2, 2, pick_b=(1, 2, 3)), "a pick is two 1-based indices"),
    ],
)
def test_api_errors(call, message):
    with pytest.raises(symgrad.SymgradError, match=message):
        call()


@pytest.mark.slow
def test_summary_and_json():
    result = run("matmul")
    assert result.returncode == 0
    assert "dL/da_{23} = b_{31}/6 + b_{32}/6 + b_{33}/6" in result.stdout
    assert "proof holds" in result.stdout
    data = json.loads(run("matmul", "-m", "3", "-k", "2", "-n", "2", "--loss", "sum", "--json").stdout)
    assert data["sizes"] == {"m": 3, "k": 2, "n": 2} and data["loss"] == "sum"
    assert data["grad"]["A"][0][0] == "b_{11} + b_{12}"
    assert data["proof"]["ok"] is True and data["proof"]["counterexample"] is None
    assert data["picks"] == {"A": [2, 2], "B": [1, 2]}


@pytest.mark.slow
def test_bare_symgrad_writes_the_reference_example(tmp_path):
    result = run(cwd=tmp_path)
    assert result.returncode == 0
    written = sorted(p.name for p in (tmp_path / "output" / "matmul-2x4x3").iterdir())
    # the post goes where Jekyll looks for it, under the name Jekyll requires
    assert written == sorted([*(f"matmul-2x4x3{s}" for s in (".tex", ".html", ".fragment.html", ".md")), "_posts"])
    assert [p.name for p in (tmp_path / "output" / "matmul-2x4x3" / "_posts").iterdir()] == [
        "2000-01-01-matmul-2x4x3.md"
    ]
    # what was derived and proven, then each file with how to look at it
    lines = result.stdout.splitlines()
    assert lines[0] == "matmul: A 2×4, B 4×3, loss mean"
    # the closed forms in the claim language (@, the matrix product), which reads them back as proven
    assert "  dL/dA = G @ B.T" in lines and "  dL/dB = A.T @ G" in lines
    assert symgrad.check(symgrad.matmul(2, 4, 3), "A", "G @ B.T").ok
    assert any(line.startswith("proof holds, for every upstream gradient G: 20 element equalities") for line in lines)
    listed = lines[lines.index("written to output/matmul-2x4x3/:") + 1 :]
    shown = sorted(line.split()[0] for line in listed)
    assert shown == sorted([*(n for n in written if n != "_posts"), "_posts/2000-01-01-matmul-2x4x3.md"])
    assert "pdflatex matmul-2x4x3.tex" in result.stdout and "open it in a browser" in result.stdout


@pytest.mark.slow
def test_other_files_in_the_folder_survive(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    result = run("matmul", "--out", str(tmp_path), "--format", "md")
    assert result.returncode == 0
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["matmul-2x4x3.md", "notes.txt"]


@pytest.mark.slow
def test_progress_shows_on_a_terminal_and_nowhere_else(tmp_path):
    """A long command draws its stages on a terminal's stderr; through a pipe it prints nothing extra."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    args = [sys.executable, "-m", "symgrad", "matmul", "-m", "72", "-k", "72", "-n", "72"]  # about 1.1 s estimated
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    child = subprocess.Popen(args, stderr=slave, stdout=subprocess.DEVNULL, cwd=tmp_path)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed with the child
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert child.wait() == 0
    text = seen.decode("utf-8", "replace")
    assert all(f"symgrad: {stage}" in text for stage in ("derive", "prove", "render")) and "of about" in text
    piped = run("matmul", "-m", "72", "-k", "72", "-n", "72", cwd=tmp_path)
    assert piped.returncode == 0 and piped.stderr == ""
