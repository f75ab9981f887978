#!/usr/bin/env bash
# Builds the pinned third-party binaries (Kubernetes control plane, etcd, KWOK, helm, kustomize)
# from the Go module proxy into a cache keyed by everything that changes their output.
# A second run finds them cached and builds nothing.
#
#   tools/build.sh [TOOL...]        TOOL: k8s etcd kwok helm kustomize (default: all)
#   tools/build.sh --print-dir TOOL prints the cache folder of TOOL (built or not)
#
# Each tool has its own wrapper module (tools/TOOL/go.mod): mixing them in one module would let
# Go's version selection raise shared dependencies to versions none of them was tested with.
set -euo pipefail

# CAIRN_TOOLS_SRC points at another copy of the wrapper modules (tests use a broken one).
here=${CAIRN_TOOLS_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
cache=${CAIRN_TOOLS_CACHE:-$HOME/.cache/cairn/tools}
recipe=r1 # bump when flags below change in a way the stamp does not see

export GOTOOLCHAIN=local GOFLAGS=-modcacherw CGO_ENABLED=0

die() { echo "tools/build.sh: $*" >&2; exit 1; }

command -v go >/dev/null || die "go is not installed (Go 1.26 is needed to build the local control plane)"

module_version() { # tool module -> version pinned in that tool's go.mod
  awk -v m="$2" '$1 == m { print $2; exit }' "$here/$1/go.mod"
}

version_of() {
  case $1 in
    k8s) module_version k8s k8s.io/kubernetes ;;
    etcd) module_version etcd go.etcd.io/etcd/server/v3 ;;
    kwok) module_version kwok sigs.k8s.io/kwok ;;
    helm) module_version helm helm.sh/helm/v3 ;;
    kustomize) module_version kustomize sigs.k8s.io/kustomize/kustomize/v5 ;;
    *) die "unknown tool '$1' (known: k8s etcd kwok helm kustomize)" ;;
  esac
}

ldflags_of() {
  local tool=$1 v=$2 k8s minor flags="-s -w"
  case $tool in
    k8s)
      minor=${v#v1.}; minor=${minor%%.*}
      # Without these /version reports v0.0.0-master, which breaks clients that check the server version.
      for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
        flags+=" -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=1970-01-01T00:00:00Z"
      done
      ;;
    helm)
      # helm template renders for Kubernetes 1.20 unless told otherwise; default to the control plane's minor.
      k8s=$(version_of k8s); minor=${k8s#v1.}; minor=${minor%%.*}
      flags+=" -X helm.sh/helm/v3/internal/version.version=$v -X helm.sh/helm/v3/internal/version.metadata="
      for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
        flags+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$minor"
      done
      ;;
  esac
  echo "$flags"
}

packages_of() {
  case $1 in
    k8s) echo k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl ;;
    etcd) echo go.etcd.io/etcd/server/v3 ;;
    kwok) echo sigs.k8s.io/kwok/cmd/kwok ;;
    helm) echo helm.sh/helm/v3/cmd/helm ;;
    kustomize) echo sigs.k8s.io/kustomize/kustomize/v5 ;;
  esac
}

dir_of() {
  local tool=$1 v stamp
  v=$(version_of "$tool")
  [ -n "$v" ] || die "tools/$tool/go.mod pins no version"
  stamp=$({ cat "$here/$tool/go.mod" "$here/$tool/go.sum"; ldflags_of "$tool" "$v"; echo "$recipe"; } |
    sha256sum | cut -c1-12)
  echo "$cache/$tool-$v-$(go env GOVERSION)-$(go env GOOS)-$(go env GOARCH)-$stamp"
}

build() {
  local tool=$1 dir tmp v started
  dir=$(dir_of "$tool")
  if [ -f "$dir/.complete" ]; then
    echo "$tool: cached in $dir"
    return 0
  fi
  v=$(version_of "$tool")
  tmp="$dir.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  started=$(date +%s)
  echo "$tool $v: building (this takes a while the first time)..."
  local pkgs; read -r -a pkgs <<<"$(packages_of "$tool")"
  if [ "$tool" = etcd ]; then
    # The package is named 'server'; the binary must be called etcd.
    (cd "$here/$tool" && go build -trimpath -ldflags "$(ldflags_of "$tool" "$v")" -o "$tmp/etcd" "${pkgs[@]}") ||
      die "$tool $v: go build failed (see the output above)"
  else
    (cd "$here/$tool" && go build -trimpath -ldflags "$(ldflags_of "$tool" "$v")" -o "$tmp/" "${pkgs[@]}") ||
      die "$tool $v: go build failed (see the output above)"
  fi
  echo "$v" >"$tmp/.complete"
  rm -rf "$dir"; mv "$tmp" "$dir"
  echo "$tool $v: built in $(($(date +%s) - started))s into $dir"
}

if [ "${1:-}" = "--print-dir" ]; then
  [ -n "${2:-}" ] || die "--print-dir needs a tool name"
  dir_of "$2"
  exit 0
fi

tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(k8s etcd kwok helm kustomize)
mkdir -p "$cache"
# One builder at a time: parallel test workers or a second terminal wait instead of building twice.
exec 9>"$cache/.lock"
flock 9
for t in "${tools[@]}"; do build "$t"; done
