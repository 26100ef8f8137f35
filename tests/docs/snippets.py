#!/usr/bin/env python3
"""Keep the documentation's code snippets identical to the code that make check runs.

A source file marks a region with two comment lines:

    /* tutorial: NAME */          (C)      # tutorial: NAME        (shell, groups)
    ...                                    ...
    /* tutorial-end: NAME */               # tutorial-end: NAME

A Markdown file embeds the region between two HTML comments around a fence:

    <!-- snippet: kernel/lring_edu.c irq -->
    ```c
    ...the region, with the common indentation removed...
    ```
    <!-- /snippet -->

Marker lines of other regions nested inside a region are left out of it.
Every other fenced block in the checked Markdown must be labelled, on the
line before it, <!-- output: WHERE --> (quoted output of a real run) or
<!-- host --> (a command typed on the host), so that no unlabelled code can
drift.

  snippets.py --check   one TAP line per snippet; exit 1 on any difference,
                        a missing region or an unbalanced marker
  snippets.py --update  rewrite the Markdown blocks from the sources
Options: --root DIR (default: the repository), --result FILE (write
"passed=N failed=N skipped=0" for tests/vm/check.sh), FILES... (Markdown
files; default DEFAULT_FILES: the tutorial, README.md, docs/liblring.md).

--check first runs the checker on a broken twin of its own (a drifted
snippet and an unlabelled block, in a scratch directory) and fails if it
does not catch both: a checker that cannot fail proves nothing.
"""
import argparse
import difflib
import glob
import os
import re
import sys

# Only code that make check builds and runs may be quoted.
ALLOWED = [
    r"kernel/[^/]+\.[ch]",
    r"uapi/linux/[^/]+\.h",
    r"liblring/include/lring\.h",
    r"liblring/src/[^/]+\.c",
    r"examples/[^/]+\.[ch]",
    r"tools/[^/]+\.[ch]",
    r"tests/kernel/[^/]+\.(c|h|sh)",
    r"tests/kernel/groups/[^/]+\.group",
]
MARK = re.compile(r"^\s*(?:/\*|//|#)\s*tutorial(-end)?:\s*([A-Za-z0-9_.-]+)\s*(?:\*/)?\s*$")
SNIP_OPEN = re.compile(r"^<!--\s*snippet:\s*(\S+)\s+(\S+)\s*-->\s*$")
SNIP_CLOSE = re.compile(r"^<!--\s*/snippet\s*-->\s*$")
LABEL = re.compile(r"^<!--\s*(output|host)\b.*-->\s*$")
FENCE = re.compile(r"^(```+|~~~+)(.*)$")
LANG = {".c": "c", ".h": "c", ".sh": "sh", ".group": "sh"}
# Every Markdown file whose code blocks are checked by default.
DEFAULT_FILES = ["docs/tutorial/*.md", "README.md", "docs/liblring.md"]


class Regions:
    """Marked regions of source files, parsed once per file."""

    def __init__(self, root):
        self.root = root
        self.cache = {}

    def parse(self, path):
        if path in self.cache:
            return self.cache[path]
        regions, errors, open_ = {}, [], {}
        try:
            with open(os.path.join(self.root, path), encoding="utf-8") as f:
                lines = f.read().split("\n")
        except OSError as e:
            self.cache[path] = ({}, ["cannot read %s: %s" % (path, e.strerror)])
            return self.cache[path]
        for no, line in enumerate(lines, 1):
            m = MARK.match(line)
            if not m:
                for body in open_.values():
                    body.append(line)
                continue
            end, name = bool(m.group(1)), m.group(2)
            if not end:
                if name in open_ or name in regions:
                    errors.append("%s:%d: region '%s' opened twice" % (path, no, name))
                open_[name] = []
            elif name not in open_:
                errors.append("%s:%d: tutorial-end: %s without its start" % (path, no, name))
            else:
                regions[name] = dedent(open_.pop(name))
        for name in open_:
            errors.append("%s: region '%s' is never closed" % (path, name))
        self.cache[path] = (regions, errors)
        return self.cache[path]


def dedent(lines):
    """Removes the leading whitespace every non-blank line shares."""
    prefix = None
    for line in lines:
        if not line.strip():
            continue
        lead = line[: len(line) - len(line.lstrip())]
        if prefix is None:
            prefix = lead
        else:
            i = 0
            while i < min(len(prefix), len(lead)) and prefix[i] == lead[i]:
                i += 1
            prefix = prefix[:i]
    n = len(prefix or "")
    out = [line[n:] if line.strip() else "" for line in lines]
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return out


def allowed(path):
    return any(re.fullmatch(p, path) for p in ALLOWED)


def process(md, root, regions, update, tap):
    """Checks (or rewrites) one Markdown file. Returns (passed, failed)."""
    rel = os.path.relpath(md, root)
    with open(md, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out, passed, failed, i = [], 0, 0, 0

    def fail(name, why, diff=()):
        nonlocal failed
        failed += 1
        tap("not ok - %s: %s: %s" % (rel, name, why))
        for d in diff:
            tap("#   " + d.rstrip("\n"))

    while i < len(lines):
        line = lines[i]
        m = SNIP_OPEN.match(line)
        f = FENCE.match(line)
        if f and not (i > 0 and LABEL.match(lines[i - 1])):
            fail("line %d" % (i + 1), "a fenced block that is neither a snippet "
                 "nor labelled <!-- output: ... --> or <!-- host -->")
        if f:  # skip a labelled (or reported) block whole
            j = i + 1
            while j < len(lines) and not lines[j].startswith(f.group(1)):
                j += 1
            out.extend(lines[i : j + 1])
            i = j + 1
            continue
        if not m:
            out.append(line)
            i += 1
            continue
        path, name = m.group(1), m.group(2)
        label = "%s %s" % (path, name)
        # The block: the opening line, a fence, its body, the fence, the close.
        j = i + 1
        fence = FENCE.match(lines[j]) if j < len(lines) else None
        k = j + 1
        while fence and k < len(lines) and not lines[k].startswith(fence.group(1)):
            k += 1
        if not fence or k + 1 >= len(lines) or not SNIP_CLOSE.match(lines[k + 1]):
            fail(label, "line %d: expected a fenced block then <!-- /snippet -->" % (i + 1))
            out.append(line)
            i += 1
            continue
        body = lines[j + 1 : k]
        got, errs = regions.parse(path)
        want = got.get(name)
        if not allowed(path):
            fail(label, "not a file that make check builds and runs")
        elif errs:
            for e in errs:
                fail(label, e)
        elif want is None:
            fail(label, "no region '%s' in %s" % (name, path))
        elif body == want:
            passed += 1
            tap("ok - %s: %s" % (rel, label))
        elif update:
            passed += 1
            tap("ok - %s: %s (updated)" % (rel, label))
        else:
            fail(label, "differs from the source (--- markdown, +++ source)",
                 difflib.unified_diff(body, want, rel, path, n=1, lineterm=""))
        lang = LANG.get(os.path.splitext(path)[1], "")
        if update and want is not None:
            out += [line, fence.group(1) + lang] + want + [fence.group(1), lines[k + 1]]
        else:
            out += lines[i : k + 2]
        i = k + 2
    if update:
        text = "\n".join(out)
        with open(md, encoding="utf-8") as f:
            if f.read() != text:
                with open(md, "w", encoding="utf-8") as w:
                    w.write(text)
    return passed, failed


def selftest():
    """The broken twin: returns the failures a drifted snippet and an
    unlabelled block produce (2 when the checker works)."""
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "examples"))
        with open(os.path.join(root, "examples", "twin.c"), "w") as f:
            f.write("/* tutorial: twin */\nint a = 1;\n/* tutorial-end: twin */\n")
        md = os.path.join(root, "twin.md")
        with open(md, "w") as f:
            f.write("<!-- snippet: examples/twin.c twin -->\n```c\nint a = 2;\n```\n"
                    "<!-- /snippet -->\n\n```\nunlabelled\n```\n")
        return process(md, root, Regions(root), False, lambda line: None)[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--check", action="store_true")
    g.add_argument("--update", action="store_true")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))
    ap.add_argument("--result")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    files = a.files or [f for pat in DEFAULT_FILES
                        for f in sorted(glob.glob(os.path.join(root, pat)))]
    regions = Regions(root)
    passed = failed = 0
    if a.check:
        caught = selftest()
        if caught == 2:
            passed += 1
            print("ok - snippets: the broken twin's drifted and unlabelled blocks are caught")
        else:
            failed += 1
            print("not ok - snippets: the broken twin got %d of 2 failures" % caught)
    if not files:
        print("not ok - snippets: no Markdown files to check")
        failed += 1
    for md in files:
        p, f = process(os.path.abspath(md), root, regions, a.update, print)
        passed, failed = passed + p, failed + f
    print("# snippets: %d passed, %d failed" % (passed, failed))
    if a.result:
        with open(a.result, "w") as r:
            r.write("passed=%d failed=%d skipped=0\n" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
