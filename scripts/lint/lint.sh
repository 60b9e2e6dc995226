#!/usr/bin/env bash
# `make lint`: formatting (swift format, .swift-format), Package.swift against the imports, and the target
# diagram in docs/ARCHITECTURE.md against Package.swift. `scripts/lint/lint.sh --fix` rewrites instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
fix=0; [ "${1:-}" = "--fix" ] && fix=1
sources=(Package.swift Sources Tests Examples/Package.swift Examples/Sources Fuzz/Package.swift Fuzz/Sources scripts/lint/package-check.swift)
status=0

if [ $fix = 1 ]; then
  swift format format --in-place --recursive --parallel "${sources[@]}"
else
  swift format lint --strict --recursive --parallel "${sources[@]}" || { echo "lint: run 'make format' to fix the formatting above"; status=1; }
fi

package=$(swift package dump-package)
echo "$package" | swift scripts/lint/package-check.swift check || status=1

# The diagram lives between two markers in docs/ARCHITECTURE.md.
doc=docs/ARCHITECTURE.md
diagram=$(echo "$package" | swift scripts/lint/package-check.swift diagram)
current=$(sed -n '/<!-- targets:begin -->/,/<!-- targets:end -->/p' "$doc" | sed '1d;$d')
if [ "$diagram" != "$current" ]; then
  if [ $fix = 1 ]; then
    { sed -n '1,/<!-- targets:begin -->/p' "$doc"; echo "$diagram"; sed -n '/<!-- targets:end -->/,$p' "$doc"; } > "$doc.tmp" && mv "$doc.tmp" "$doc"
    echo "lint: updated the target diagram in $doc"
  else
    echo "lint: the target diagram in $doc is not Package.swift's; run 'make format'"; status=1
  fi
fi
[ $status = 0 ] && echo "lint: clean"
exit $status
