#!/usr/bin/env bash
# Bash completion (`whiskers completion bash`) is made from the commands'
# option tables (src/cli/opt): loaded into bash it completes command names,
# every option of every command of the three binaries (each command's --help
# is the list to check against, made from the same table), the choices of an
# option, and directories or files where an option's value is a path.
. "$(dirname "$0")/lib.sh"

script=$("$WHISKERS" completion bash)
assert_eq "completion bash: exit 0" 0 $?
# shellcheck disable=SC1090
source <(printf '%s\n' "$script")
assert_match "the function is registered for whiskers" "-F _whiskers .*whiskers( |$)" \
        "$(complete -p whiskers 2>&1)"
assert_match "and for the sibling binaries" "whiskers-queue" "$(complete -p whiskers-queue 2>&1)"

# comp WORD...: what _whiskers offers with the cursor at the end of the last
# word, one per line.
comp() {
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _whiskers
        printf '%s\n' "${COMPREPLY[@]}"
}
offers() { # DESC WANTED... -- WORDS...
        local desc=$1 want=() got w
        shift
        while [ "$1" != -- ]; do want+=("$1"); shift; done
        shift
        got=$(comp "$@")
        for w in "${want[@]}"; do
                if ! grep -qxF -- "$w" <<<"$got"; then
                        fail "$desc: '$*' does not offer $w (offers: $(tr '\n' ' ' <<<"$got"))" nodump
                        return
                fi
        done
        pass "$desc"
}

offers "whiskers ex<TAB> offers exec" exec -- whiskers ex
offers "commands of the sibling binaries too" worker pack submit -- whiskers ''
assert_eq "whiskers ex<TAB> offers exec only" "exec" "$(comp whiskers ex)"
offers "whiskers exec --net<TAB> offers the net options" --net --net-allow --net-max-conns \
        --net-max-bytes --net-max-rate -- whiskers exec --net
offers "an option's choices" none loopback -- whiskers exec --net ''
offers "choices after --opt=" auto v1 v2 none -- whiskers exec --cgroup-driver = ''
offers "subcommands" list verify gc import export rm -- whiskers store ''
offers "the sibling binary itself" --warm-max --isolation-for -- whiskers-queue worker --
mkdir -p "$T/dir.d" && touch "$T/file.f"
assert_eq "a directory-valued option offers directories only" "$T/dir.d" \
        "$(comp whiskers exec --rootfs "$T/")"
offers "a file-valued option offers files" "$T/file.f" "$T/dir.d" -- whiskers run --meta "$T/"
assert_eq "no options after --: PROGRAM's own" "" "$(comp whiskers exec -- prog --ro)"
assert_eq "an unknown command completes file names, without an error" "$T/file.f" \
        "$(comp whiskers nosuch "$T/fi" 2>&1)"

# Every option every command's --help lists is offered for it: the left
# column of its option lines ("  --name VALUE, --other N  text").
cmds=$("$WHISKERS" --help | awk '/^  [a-z]/ {print $1}')
lines() { grep . | sort -u; }
n_opts=0
differ=0
for cmd in $cmds; do
        want=$("$WHISKERS" "$cmd" --help | grep -E '^  -' | sed -E 's/^  //; s/  .*//' |
                grep -oE -- '--[a-z0-9][a-z0-9-]*' | grep -vxF -- --help)
        got=$(comp whiskers "$cmd" --)
        missing=$(comm -23 <(lines <<<"$want") <(lines <<<"$got") | tr '\n' ' ')
        extra=$(comm -13 <(lines <<<"$want") <(lines <<<"$got") | grep -vxF -- --help |
                tr '\n' ' ')
        n_opts=$((n_opts + $(grep -c . <<<"$want")))
        if [ -n "$missing$extra" ]; then
                fail "whiskers $cmd: completion differs from --help: missing [$missing] extra [$extra]" nodump
                differ=$((differ + 1))
        fi
done
assert_eq "every option of $(wc -w <<<"$cmds") commands ($n_opts options) is offered" \
        "0 commands differ, over 200 options" \
        "$differ commands differ, $([ "$n_opts" -gt 200 ] && echo over || echo only) 200 options"
finish
