#!/usr/bin/env python3
"""check_doc_examples.py KUBE_SCHEMA_CHECK DOC.md: runs kube-schema-check on every ```yaml block of
DOC.md (each block written to a file of its own, named after the line it starts at), so the
example objects of the documentation stay valid. Exit status: kube-schema-check's; 1 when DOC.md
has no yaml block."""
import pathlib
import subprocess
import sys
import tempfile


def yaml_blocks(text):
    block, start = None, 0
    for number, line in enumerate(text.splitlines(), 1):
        if block is None and line.strip() == "```yaml":
            block, start = [], number + 1
        elif block is not None and line.strip() == "```":
            yield start, "\n".join(block) + "\n"
            block = None
        elif block is not None:
            block.append(line)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    checker, doc = sys.argv[1], pathlib.Path(sys.argv[2])
    blocks = list(yaml_blocks(doc.read_text(encoding="utf-8")))
    if not blocks:
        print(f"{doc}: no ```yaml block", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for start, text in blocks:
            path = pathlib.Path(tmp) / f"{doc.stem}.md-line-{start}.yaml"
            path.write_text(text, encoding="utf-8")
            files.append(str(path))
        return subprocess.run([checker, *files]).returncode


if __name__ == "__main__":
    sys.exit(main())
