# Shell helpers shared by the scripts in this folder (sourced, not run).

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# pip, minus the notices some machines print for every package about
# configured-but-absent local indexes; real errors still come through.
pip_in() {
    local venv="$1"; shift
    "$venv/bin/python" -m pip "$@" 2> >(grep -v '^WARNING: Location .* is ignored' >&2)
}

# Find an interpreter of a given version: on PATH first, then pyenv's versions.
find_python() {
    local version="$1" candidate
    for candidate in "python${version}" "$(command -v pyenv >/dev/null 2>&1 && pyenv root)/versions/${version}"*/bin/"python${version}"; do
        if [ -n "$candidate" ] && "$candidate" -c 'import sys' >/dev/null 2>&1; then
            command -v "$candidate" 2>/dev/null || echo "$candidate"
            return 0
        fi
    done
    return 1
}
