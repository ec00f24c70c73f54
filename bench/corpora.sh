#!/usr/bin/env bash
# Fetch and prepare one real corpus per language for `index_bench.py CORPUS --language L`
# (the per-language throughput table in bench/README.md). Offline-friendly: Debian packages
# (apt, needs root), npm and PyPI only. Idempotent; prints "language<TAB>corpus dir" lines.
#
#   bench/corpora.sh [DIR]        # default DIR: /tmp/corpora
#   while IFS=$'\t' read -r lang dir; do
#     .venv/bin/python bench/index_bench.py "$dir" --language "$lang" --jobs 2
#   done < <(bench/corpora.sh)
set -euo pipefail
DIR=${1:-/tmp/corpora}
mkdir -p "$DIR"
log() { echo "corpora: $*" >&2; }

need_apt=()
for pkg in golang-src openjdk-17-source librust-serde-dev librust-regex-syntax-dev \
           googletest ruby-rack ruby-thor php-symfony-console php-monolog; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
    log "apt-get install ${need_apt[*]}"
    apt-get install -y -q "${need_apt[@]}" >&2
fi

# Go: the standard library of Debian's Go 1.19 (`src/go.mod` says `module std`).
GO_SRC=$(ls -d /usr/share/go-1.*/src 2>/dev/null | sort -V | tail -1)
if [ ! -d "$DIR/go" ]; then mkdir -p "$DIR/go" && cp -r "$GO_SRC" "$DIR/go/src"; fi

# Java: java.base's java/util, java/io and java/lang of OpenJDK 17.
if [ ! -d "$DIR/java" ]; then
    mkdir -p "$DIR/java"
    unzip -q -o "$(readlink -f /usr/lib/jvm/java-17-openjdk-amd64/lib/src.zip)" \
        'java.base/java/util/*' 'java.base/java/io/*' 'java.base/java/lang/*' -d "$DIR/java"
fi

# Rust: serde and regex-syntax, as Debian ships their crates.
if [ ! -d "$DIR/rust" ]; then
    mkdir -p "$DIR/rust"
    for crate in /usr/share/cargo/registry/serde-1.* /usr/share/cargo/registry/regex-syntax-*; do
        cp -r "$crate" "$DIR/rust/"
    done
fi

# TypeScript: rxjs 7's src/; JavaScript: the same package's ES module build.
if [ ! -d "$DIR/typescript" ] || [ ! -d "$DIR/javascript" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent rxjs@7.8.2 >/dev/null && tar xzf rxjs-7.8.2.tgz)
    rm -rf "$DIR/typescript" "$DIR/javascript"
    cp -r "$tmp/package/src" "$DIR/typescript"
    cp -r "$tmp/package/dist/esm" "$DIR/javascript"
    rm -rf "$tmp"
fi

# C: /usr/include's linux/ and the top-level headers with no C++ in them (no deb-src here).
if [ ! -d "$DIR/c" ]; then
    mkdir -p "$DIR/c"
    cp -r /usr/include/linux "$DIR/c/"
    for h in /usr/include/*.h; do
        grep -qE '\b(template|namespace|class)\b' "$h" || cp "$h" "$DIR/c/"
    done
fi

# C++: googletest's sources as Debian ships them.
if [ ! -d "$DIR/cpp" ]; then cp -r /usr/src/googletest "$DIR/cpp"; fi

# Ruby: rack and thor (Debian installs them as gems under rubygems-integration).
if [ ! -f "$DIR/ruby/rack.rb" ]; then
    mkdir -p "$DIR/ruby"
    for gem in rack thor; do
        lib=$(dirname "$(dpkg -L "ruby-$gem" | grep -m1 "/lib/$gem.rb$")")
        cp -r "$lib/$gem" "$lib/$gem.rb" "$DIR/ruby/"
    done
fi

# PHP: symfony/console and monolog (with the psr interfaces they use).
if [ ! -d "$DIR/php" ]; then
    mkdir -p "$DIR/php"
    cp -r /usr/share/php/Symfony/Component/Console /usr/share/php/Monolog "$DIR/php/"
    [ -d /usr/share/php/Psr ] && cp -r /usr/share/php/Psr "$DIR/php/"
fi

# C#: pythonnet's runtime (the C# sources of its sdist).
if [ ! -d "$DIR/csharp" ]; then
    tmp=$(mktemp -d)
    pip download -q --no-deps --no-binary :all: pythonnet==3.0.5 -d "$tmp" >&2
    tar xzf "$tmp"/pythonnet-3.0.5.tar.gz -C "$tmp"
    cp -r "$tmp/pythonnet-3.0.5/src/runtime" "$DIR/csharp"
    rm -rf "$tmp"
fi

# Swift: Capacitor's iOS runtime from npm (ctags 5.9 has no Swift parser: files/s only).
if [ ! -d "$DIR/swift" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent @capacitor/ios@8.5.2 >/dev/null && tar xzf capacitor-ios-8.5.2.tgz)
    mkdir -p "$DIR/swift"
    cp -r "$tmp/package/Capacitor" "$DIR/swift/"
    rm -rf "$tmp"
fi

for lang in go java rust typescript javascript c cpp ruby php csharp swift; do
    printf '%s\t%s\n' "$lang" "$DIR/$lang"
done
