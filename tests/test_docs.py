"""Every ```bash and ```python snippet of README.md and docs/*.md runs, and does what it says.

The documents are read in order (README.md, then docs/*.md by name) into one temporary
folder that holds a link to the repository's configs/, as a modeller's checkout does. Each
`flowsim` line runs as `python -m flowsim` in that folder, with runs shrunk to a few days of
a small population: the options and paths are the documents', only the scale is not. A
document's python blocks run after its bash blocks, in the same folder. A block whose first
line is `# illustrative` is only parsed. `make demo`, `make test` and `source
.venv/bin/activate` are the set-up commands and are not run here; a snippet that reads a
results folder no earlier snippet writes (results/demo) gets it from the Makefile's own
`flowsim run` line first.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = ["README.md", *sorted(p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md"))]
SET_UP = ("make demo", "make test", "source .venv/bin/activate")
# Appended to every run: the same command on a few days of a small population.
SHRINK = ["--horizon-days", "3", "--warmup-days", "1", "--set", "population.size=20000"]
MAX_REPLICATIONS = 2
FENCE = re.compile(r"^```(\S*)\s*$")
RESULTS_FOLDER = re.compile(r"results/[\w.-]+")


@dataclass(frozen=True)
class Block:
    """One fenced block: its language, its text and the line it starts on."""

    document: str
    language: str
    line: int
    text: str

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"

    @property
    def illustrative(self) -> bool:
        return self.text.lstrip().startswith("# illustrative")


def fenced_blocks(document: str, text: str | None = None) -> list[Block]:
    """The ```bash and ```python blocks of a document, in order (others are not snippets to run)."""
    if text is None:
        text = (REPO / document).read_text(encoding="utf-8")
    blocks: list[Block] = []
    language: str | None = None
    start, body = 0, []
    for number, line in enumerate(text.splitlines(), 1):
        fence = FENCE.match(line)
        if language is None and fence:
            language, start, body = fence.group(1), number + 1, []
        elif language is not None and line.strip() == "```":
            if language in ("bash", "python"):
                blocks.append(Block(document, language, start, "\n".join(body)))
            language = None
        elif language is not None:
            body.append(line)
    assert language is None, f"{document}:{start}: a fenced block is never closed"
    return blocks


def commands(block: Block) -> list[tuple[str, list[str]]]:
    """A bash block's commands, as (where, words), comments dropped and continued lines joined."""
    found, pending, first = [], "", 0
    for offset, line in enumerate(block.text.splitlines()):
        first = first if pending else block.line + offset
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        words = shlex.split(pending + line, comments=True)
        pending = ""
        if words and " ".join(words) not in SET_UP:
            found.append((f"{block.document}:{first}", words))
    return found


def shrunk(words: list[str]) -> list[str]:
    """`flowsim run` or `flowsim report` as documented, but over a few days of 20,000 people."""
    args, kept = words[1:], []
    while args:
        word = args.pop(0)
        if word in ("--horizon-days", "--warmup-days"):
            args.pop(0)
        elif word == "--replications":
            kept += [word, str(min(int(args.pop(0)), MAX_REPLICATIONS))]
        else:
            kept.append(word)
    if kept[0] == "run":
        return kept + SHRINK
    assert "--docs" not in kept, "a documented `flowsim report --docs` would rewrite this repository's docs"
    days = ["--set", "run.horizon_days=3", "--set", "run.warmup_days=1", "--set", "population.size=20000"]
    return [*kept, *days, "--replications", str(MAX_REPLICATIONS)]


def makefile_demo() -> dict[str, list[str]]:
    """The results folders `make demo` writes, each with the flowsim line that writes it."""
    recipe = (REPO / "Makefile").read_text(encoding="utf-8").split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    made = {}
    for line in recipe.splitlines()[1:]:
        words = shlex.split(line)
        if words and words[0].endswith("/flowsim") and "--out" in words:
            made[words[words.index("--out") + 1]] = ["flowsim", *words[1:]]
    assert made, "the Makefile's demo target no longer runs `flowsim run ... --out FOLDER`"
    return made


def flowsim(where: str, words: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    """Run one documented flowsim command in folder; fail the test, naming the line, unless it works."""
    args = words[1:]
    if args[0] in ("run", "report"):
        args = shrunk(words)
    # This checkout's flowsim, whatever the venv has installed; no colours or progress bars.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.update(NO_COLOR="1", COLUMNS="120")
    done = subprocess.run(
        [sys.executable, "-m", "flowsim", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    allowed = (0, 1) if args[:2] == ["report", "validation"] else (0,)  # targets may miss on 3 days
    assert done.returncode in allowed and "Traceback" not in output, (
        f"{where}: `{' '.join(words)}` exited {done.returncode}:\n{output[-3000:]}"
    )
    return done


def ensure_results(where: str, text: str, folder: Path) -> None:
    """Write, with the Makefile's own line, any results folder text reads that is not there yet."""
    demo = makefile_demo()
    for name in dict.fromkeys(RESULTS_FOLDER.findall(text)):
        if (folder / name).exists():
            continue
        assert name in demo, f"{where}: reads {name}, which no earlier snippet writes"
        flowsim(f"Makefile (demo, for {where})", demo[name], folder)


@dataclass
class Checkout:
    """A working folder as a modeller has it, and the commands already run in it."""

    folder: Path
    ran: set[tuple[str, ...]]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Checkout:
    """configs/ here, results/ written by the snippets, shared by the documents in order."""
    folder = tmp_path_factory.mktemp("checkout")
    (folder / "configs").symlink_to(REPO / "configs", target_is_directory=True)
    return Checkout(folder, set())


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_documents_snippets_run(
    document: str, checkout: Checkout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each command exits 0 without a traceback (`validate` says ok); each python block runs.

    A command an earlier document already ran word for word (docs/model.md repeats the
    README's) is not run again: it would do the same in the same folder, only slower."""
    blocks = fenced_blocks(document)
    for block in (b for b in blocks if b.language == "bash"):
        found = commands(block)  # parsed, whatever the block
        if block.illustrative:
            continue  # a server, say, that would never return
        for where, words in found:
            assert words[0] == "flowsim", f"{where}: `{' '.join(words)}` is not a command this test can check"
            if tuple(words) in checkout.ran:
                continue
            if words[1] in ("reproduce", "compare"):  # what they read: their one argument
                ensure_results(where, next(w for w in words[2:] if not w.startswith("-")), checkout.folder)
            done = flowsim(where, words, checkout.folder)
            if words[1] == "validate":
                assert done.stdout.startswith("ok"), f"{where}: {done.stdout}"
            checkout.ran.add(tuple(words))
    monkeypatch.chdir(checkout.folder)
    for block in (b for b in blocks if b.language == "python"):
        code = compile(block.text, block.where, "exec")  # a syntax error names the document's line
        if block.illustrative:
            continue
        ensure_results(block.where, block.text, checkout.folder)
        exec(code, {"__name__": "__doc_snippet__"})


SAMPLE = """Set up:

```bash
make demo   # set up
source .venv/bin/activate
flowsim run configs/small.yaml --replications 5 \\
    --horizon-days 60   # comment
flowsim compare results/beds --target 'a<=92%' # '#' quoted stays
```

```mermaid
flowchart TD
```

```
flowsim not-a-snippet
```

```python
# illustrative
board.admit(t)
```
"""


@pytest.mark.unit
def test_the_parser_reads_a_document_as_a_person_does() -> None:
    """bash and python blocks only; set-up lines and comments dropped; continued lines joined."""
    bash, python = fenced_blocks("SAMPLE.md", SAMPLE)
    assert (bash.language, bash.where, python.language, python.where) == (
        "bash",
        "SAMPLE.md:4",
        "python",
        "SAMPLE.md:20",
    )
    assert python.illustrative and not bash.illustrative
    assert commands(bash) == [
        (
            "SAMPLE.md:6",
            ["flowsim", "run", "configs/small.yaml", "--replications", "5", "--horizon-days", "60"],
        ),
        ("SAMPLE.md:8", ["flowsim", "compare", "results/beds", "--target", "a<=92%"]),
    ]
    assert shrunk(commands(bash)[0][1]) == ["run", "configs/small.yaml", "--replications", "2", *SHRINK]
    with pytest.raises(AssertionError, match="never closed"):
        fenced_blocks("OPEN.md", "```bash\nflowsim info\n")


@pytest.mark.unit
def test_the_demo_folder_comes_from_the_makefile() -> None:
    assert makefile_demo() == {
        "results/demo": ["flowsim", "run", "configs/footprint.yaml", "--out", "results/demo"]
    }
