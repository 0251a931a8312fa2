# Sourced by the benchmarks that time the release binary `make release` makes (fully static, COFFER_STATIC_LINK=1;
# docs/architecture.md, "Building for release"). Needs `here` (the repository) and sets `coffer` to the binary.
#   SKIP_BUILD=1               reuse the binary already built
#   STATIC_SCRATCH=DIR         where the build lives (default .build)
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  echo "== building release (fully static)"
  (cd "$here" && make release PRODUCT=coffer SCRATCH="${STATIC_SCRATCH:-.build}" 2>&1 | tail -1)
fi
coffer="$here/${STATIC_SCRATCH:-.build}/release/coffer"
[[ -x "$coffer" ]] || { echo "missing $coffer (run without SKIP_BUILD)" >&2; exit 1; }
