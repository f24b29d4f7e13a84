#!/usr/bin/env bash
# Publish a Helm chart release twice: to an OCI registry (what Argo CD pulls) and to a classic chart
# repository on GitHub Pages (index.yaml plus the archives on a branch, what `helm repo add` reads).
# A published version is immutable: a version that either place already has is refused before
# anything is published, and neither place is changed.
#
# Copy into the application repository as .github/scripts/publish-chart.sh, beside release.yml,
# which runs it in two jobs:
#
#   publish-chart.sh oci CHART_DIR VERSION
#       helm package CHART_DIR at VERSION (version and appVersion) into $DIST, check that neither
#       $CHART_REGISTRY nor $PAGES_DIR/index.yaml has NAME VERSION, and that the index merges,
#       then helm push the archive to $CHART_REGISTRY. Prints the archive's path on stdout.
#   publish-chart.sh pages ARCHIVE [--push]
#       Check that $PAGES_DIR/index.yaml does not list the archive's version (nor holds the file),
#       then copy the archive into $PAGES_DIR and merge index.yaml: helm repo index --merge on a
#       folder holding only the new archive, so every earlier entry is kept as it was (its
#       download URL and digest), and the new one gets $PAGES_URL/NAME-VERSION.tgz.
#       With --push: commit both files and push HEAD to $PAGES_REMOTE's $PAGES_BRANCH. A push that
#       lost a race to another release (the branch moved meanwhile) fetches the new tip, checks
#       and merges again on top of it, and pushes again, $PUSH_ATTEMPTS attempts at most.
#
# Environment:
#   CHART_REGISTRY    oci://HOST/PATH; the chart goes to CHART_REGISTRY/NAME:VERSION   (oci)
#   PAGES_DIR         the folder of index.yaml in a checkout of the pages branch       (oci, pages)
#   PAGES_URL         the URL PAGES_DIR is served at (https://OWNER.github.io/REPO/charts) (pages)
#   DIST              where oci writes the archive (default: dist)
#   CHART_PLAIN_HTTP  true: talk plain HTTP to the registry (a loopback registry in tests)
#   PAGES_REMOTE      (origin), PAGES_BRANCH (gh-pages), PUSH_ATTEMPTS (5),
#   RETRY_DELAY       seconds before retry n, times n (2)
#   HELM              the helm binary (default: helm; Helm 3 and Helm 4 both work)
#
# How a version is found (both exit 1 with a message naming the place when it is there):
#   registry: `helm show chart CHART_REGISTRY/NAME --version VERSION` succeeds: it is there; fails
#             with "...: not found" (Helm 3 and Helm 4 both end their message so): it is not;
#             any other failure (network, authentication) stops the release: unknown is not absent.
#   pages:    `helm search repo pages/NAME --versions --devel` lists VERSION: index.yaml read by
#             Helm's own index loader, through a private repository configuration whose cache is
#             that file (no network); or the archive NAME-VERSION.tgz is already in PAGES_DIR. An
#             index Helm cannot read stops the release.
# The pages branch must hold an index.yaml already (an empty one to start: see docs/release.md).
set -euo pipefail

PROG=publish-chart
HELM="${HELM:-helm}"
DIST="${DIST:-dist}"
PAGES_REMOTE="${PAGES_REMOTE:-origin}"
PAGES_BRANCH="${PAGES_BRANCH:-gh-pages}"
PUSH_ATTEMPTS="${PUSH_ATTEMPTS:-5}"
RETRY_DELAY="${RETRY_DELAY:-2}"

say() { echo "$PROG: $*" >&2; }
die() {
    echo "$PROG: error: $*" >&2
    exit 1
}
usage() {
    echo "$PROG: $*" >&2
    echo "usage: $PROG oci CHART_DIR VERSION | $PROG pages ARCHIVE [--push]" >&2
    exit 2
}
need() { # need VAR...: each must be set and non-empty
    local name
    for name in "$@"; do
        [ -n "${!name:-}" ] || usage "$name is not set"
    done
}

oci_flags=()
case "${CHART_PLAIN_HTTP:-}" in
"" | false) ;;
true) oci_flags=(--plain-http) ;;
*) usage "CHART_PLAIN_HTTP must be true or false, not '$CHART_PLAIN_HTTP'" ;;
esac
case "$PUSH_ATTEMPTS" in
'' | *[!0-9]* | 0) usage "PUSH_ATTEMPTS must be a positive number, not '$PUSH_ATTEMPTS'" ;;
esac
case "$RETRY_DELAY" in
'' | *[!0-9]*) usage "RETRY_DELAY must be a number of seconds, not '$RETRY_DELAY'" ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/publish-chart.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Every check below is a plain statement that sets a variable, never a condition or a pipeline:
# bash ignores `set -e` inside a function called as a condition, and `die` in a subshell would only
# end the subshell. A check that cannot tell stops the script.

# --- the archive ---

NAME=""
VERSION=""
read_archive() { # read_archive ARCHIVE: sets NAME and VERSION; the file must be NAME-VERSION.tgz
    [ -f "$1" ] || die "no chart archive at $1"
    "$HELM" show chart "$1" >"$work/Chart.yaml" || die "helm show chart $1 failed (see above)"
    NAME="$(sed -n 's/^name: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$work/Chart.yaml")"
    VERSION="$(sed -n 's/^version: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$work/Chart.yaml")"
    if [ -z "$NAME" ] || [ -z "$VERSION" ]; then
        die "$1: no name or version in its Chart.yaml"
    fi
    [ "$(basename "$1")" = "$NAME-$VERSION.tgz" ] ||
        die "$1 holds $NAME $VERSION: expected the file name $NAME-$VERSION.tgz"
}

# --- the registry ---

IN_REGISTRY=""
check_registry() { # sets IN_REGISTRY=yes|no: does CHART_REGISTRY have NAME:VERSION?
    local ref="$CHART_REGISTRY/$NAME" err="$work/registry.err"
    IN_REGISTRY=no
    if "$HELM" show chart "$ref" --version "$VERSION" ${oci_flags[@]+"${oci_flags[@]}"} \
        >/dev/null 2>"$err"; then
        IN_REGISTRY=yes
    elif ! grep -q ': not found$' "$err"; then
        cat "$err" >&2
        die "cannot tell whether $ref:$VERSION exists (helm show chart failed, see above); nothing was published"
    fi
}

# --- the pages index ---

INDEX=""
find_index() { # sets INDEX; the pages folder must have one
    INDEX="$PAGES_DIR/index.yaml"
    [ -f "$INDEX" ] ||
        die "no $INDEX: the pages branch needs an index.yaml, an empty one to start (see docs/release.md)"
}

index_versions() { # index_versions INDEX OUT: writes the versions of NAME that INDEX lists to OUT
    local home="$work/search"
    rm -rf "$home"
    mkdir -p "$home/cache"
    printf 'apiVersion: ""\nrepositories:\n- name: pages\n  url: https://pages.invalid\n' \
        >"$home/repositories.yaml"
    cp "$1" "$home/cache/pages-index.yaml"
    # Helm only warns about an index it cannot read (and finds nothing): any stderr is a failure.
    # The table's first two columns are the name and the version (neither has a blank in it).
    if ! HELM_REPOSITORY_CONFIG="$home/repositories.yaml" HELM_REPOSITORY_CACHE="$home/cache" \
        "$HELM" search repo "pages/$NAME" --versions --devel --max-col-width 0 \
        >"$home/out" 2>"$home/err" || [ -s "$home/err" ]; then
        cat "$home/err" >&2
        die "cannot read $1 (helm search repo, see above)"
    fi
    awk -v name="pages/$NAME" 'NR > 1 && $1 == name { print $2 }' "$home/out" >"$2"
}

IN_PAGES=""
check_pages() { # sets IN_PAGES to where the pages folder has NAME VERSION, or to nothing
    find_index
    index_versions "$INDEX" "$work/listed"
    IN_PAGES=""
    if grep -qxF -- "$VERSION" "$work/listed"; then
        IN_PAGES="the pages index ($INDEX)"
    elif [ -e "$PAGES_DIR/$NAME-$VERSION.tgz" ]; then
        IN_PAGES="the pages folder ($PAGES_DIR/$NAME-$VERSION.tgz, which index.yaml does not list)"
    fi
}

merge_index() { # merge_index ARCHIVE: writes $work/merged/index.yaml (the old one plus ARCHIVE)
    local merged="$work/merged"
    find_index
    rm -rf "$merged"
    mkdir -p "$merged"
    cp "$1" "$merged/"
    "$HELM" repo index "$merged" --url "$PAGES_URL" --merge "$INDEX" >&2 ||
        die "helm repo index --merge $INDEX failed (see above)"
    # Every version the old index listed is still there, and the new one with it.
    index_versions "$INDEX" "$work/before"
    index_versions "$merged/index.yaml" "$work/after"
    { cat "$work/before" && echo "$VERSION"; } | sort >"$work/expected"
    sort "$work/after" >"$work/after.sorted"
    cmp -s "$work/expected" "$work/after.sorted" ||
        die "the merged index does not list exactly the earlier versions plus $VERSION"
}

refuse_published() { # refuse_published registry|pages...: stop if NAME VERSION is in any of them
    local places=() side
    for side in "$@"; do
        case "$side" in
        registry)
            check_registry
            [ "$IN_REGISTRY" = no ] || places+=("the OCI registry ($CHART_REGISTRY/$NAME:$VERSION)")
            ;;
        pages)
            check_pages
            [ -z "$IN_PAGES" ] || places+=("$IN_PAGES")
            ;;
        esac
    done
    [ "${#places[@]}" -gt 0 ] || return 0
    local where="${places[0]}"
    [ "${#places[@]}" -eq 1 ] || where="${places[0]} and in ${places[1]}"
    die "$NAME $VERSION is already published in $where: a published version is immutable, release a new version. Nothing was changed."
}

# --- commands ---

cmd_oci() {
    [ "$#" -eq 2 ] || usage "oci takes CHART_DIR VERSION"
    need CHART_REGISTRY PAGES_DIR PAGES_URL
    local chart_dir="$1" out archive
    [ -f "$chart_dir/Chart.yaml" ] || die "no chart at $chart_dir (no Chart.yaml)"
    mkdir -p "$DIST"
    out="$("$HELM" package "$chart_dir" --version "$2" --app-version "$2" --destination "$DIST")"
    archive="${out##*: }"
    read_archive "$archive"
    [ "$VERSION" = "$2" ] || die "$archive is version $VERSION, not $2"
    refuse_published registry pages
    merge_index "$archive" # only to prove that the index merges: nothing is written to PAGES_DIR
    "$HELM" push "$archive" "$CHART_REGISTRY" ${oci_flags[@]+"${oci_flags[@]}"} >&2
    say "pushed $NAME $VERSION to $CHART_REGISTRY"
    printf '%s\n' "$archive"
}

add_to_pages() { # add_to_pages ARCHIVE
    refuse_published pages
    merge_index "$1"
    cp "$1" "$PAGES_DIR/$NAME-$VERSION.tgz"
    cp "$work/merged/index.yaml" "$PAGES_DIR/index.yaml"
    say "added $NAME $VERSION to $PAGES_DIR (index.yaml and $NAME-$VERSION.tgz)"
}

push_pages() { # push_pages ARCHIVE: add, commit, push; on a lost race start again on the new tip
    local attempt=1 base tip
    while :; do
        base="$(git -C "$PAGES_DIR" rev-parse HEAD)"
        add_to_pages "$1"
        git -C "$PAGES_DIR" add -- index.yaml "$NAME-$VERSION.tgz"
        git -C "$PAGES_DIR" commit -q -m "Add the chart $NAME $VERSION"
        if git -C "$PAGES_DIR" push "$PAGES_REMOTE" "HEAD:refs/heads/$PAGES_BRANCH"; then
            say "pushed $NAME $VERSION to $PAGES_REMOTE $PAGES_BRANCH (attempt $attempt)"
            return 0
        fi
        git -C "$PAGES_DIR" fetch -q "$PAGES_REMOTE" "refs/heads/$PAGES_BRANCH"
        tip="$(git -C "$PAGES_DIR" rev-parse FETCH_HEAD)"
        [ "$tip" != "$base" ] ||
            die "git push to $PAGES_REMOTE $PAGES_BRANCH failed and the branch did not move: not a race (see git above)"
        [ "$attempt" -lt "$PUSH_ATTEMPTS" ] ||
            die "$PAGES_BRANCH kept moving: gave up after $attempt attempts; $NAME $VERSION is not on the pages branch"
        say "$PAGES_BRANCH moved (another release?): merging again on top of it"
        git -C "$PAGES_DIR" reset -q --hard "$tip"
        sleep $((attempt * RETRY_DELAY))
        attempt=$((attempt + 1))
    done
}

cmd_pages() {
    local push=false args=() arg
    for arg in "$@"; do
        case "$arg" in
        --push) push=true ;;
        -*) usage "unknown option $arg" ;;
        *) args+=("$arg") ;;
        esac
    done
    [ "${#args[@]}" -eq 1 ] || usage "pages takes ARCHIVE [--push]"
    need PAGES_DIR PAGES_URL
    read_archive "${args[0]}"
    # The archive outlives a reset of the pages checkout (the retry), wherever it was.
    cp "${args[0]}" "$work/$NAME-$VERSION.tgz"
    if [ "$push" = true ]; then
        push_pages "$work/$NAME-$VERSION.tgz"
    else
        add_to_pages "$work/$NAME-$VERSION.tgz"
    fi
}

case "${1:-}" in
oci) cmd_oci "${@:2}" ;;
pages) cmd_pages "${@:2}" ;;
-h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" ;;
*) usage "unknown command '${1:-}'" ;;
esac
