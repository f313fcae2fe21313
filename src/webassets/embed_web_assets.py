#!/usr/bin/env python3
"""Writes a C++ source embedding every file under DIST as paddlecloud::http::EmbeddedFile entries.

Usage: embed_web_assets.py DIST OUTPUT.cpp [--suffix .py] [--header H --namespace NS --function F]
By default the web UI's table (webassets/web_assets.h, EmbeddedWebAssets()); --suffix keeps only the
files whose names end with it (the Python SDK embeds its .py files, not __pycache__).
A missing DIST yields an empty table: the binary then answers that the UI is not built in.
"""
import argparse
import hashlib
import os


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dist")
    parser.add_argument("output")
    parser.add_argument("--suffix", default="")
    parser.add_argument("--header", default="webassets/web_assets.h")
    parser.add_argument("--namespace", default="paddlecloud::webassets")
    parser.add_argument("--function", default="EmbeddedWebAssets")
    args = parser.parse_args()
    dist, output = args.dist, args.output
    files = []
    if os.path.isdir(dist):
        for root, _dirs, names in os.walk(dist):
            for name in sorted(names):
                if not name.endswith(args.suffix):
                    continue
                full = os.path.join(root, name)
                rel = os.path.relpath(full, dist).replace(os.sep, "/")
                with open(full, "rb") as f:
                    files.append((rel, f.read()))
    files.sort()
    out = ['#include "%s"' % args.header, "", "namespace %s {" % args.namespace, "namespace {", ""]
    for i, (_rel, data) in enumerate(files):
        # Octal escapes keep the literal exact for any byte; split lines keep the compiler happy.
        chunks = []
        line = []
        for b in data:
            if 32 <= b < 127 and b not in (34, 92, 63):
                line.append(chr(b))
            else:
                line.append("\\%03o" % b)
            if len(line) >= 120:
                chunks.append('"' + "".join(line) + '"')
                line = []
        chunks.append('"' + "".join(line) + '"')
        out.append("constexpr char kData%d[] =\n    %s;" % (i, "\n    ".join(chunks)))
    out.append("")
    out.append("constexpr http::EmbeddedFile kFiles[] = {")
    for i, (rel, data) in enumerate(files):
        etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
        out.append('    {"%s", {kData%d, %d}, R"(%s)"},' % (rel, i, len(data), etag))
    if not files:
        out.append('    {"", {}, ""},')
    out.append("};")
    out.append("")
    out.append("}  // namespace")
    out.append("")
    out.append("std::span<const http::EmbeddedFile> %s() {" % args.function)
    out.append("  return std::span<const http::EmbeddedFile>(kFiles, %d);" % len(files))
    out.append("}")
    out.append("")
    out.append("}  // namespace %s" % args.namespace)
    text = "\n".join(out) + "\n"
    try:
        with open(output) as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(output, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
