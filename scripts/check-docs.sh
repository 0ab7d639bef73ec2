#!/usr/bin/env bash
# check-docs.sh fails when a file of the repository refers to a file outside it (the team
# notes it was written from, a machine path), or cites a section (§N, §N.M) that no page
# of docs/ has. It reads the work tree and needs no git.
#
#   scripts/check-docs.sh        (make check-docs; part of make check)
set -euo pipefail
cd "$(dirname "$0")/.."

skip=(--exclude-dir=.git --exclude=.git --exclude-dir=bin --exclude-dir=build)
status=0

# 1. References to files outside the repository. [k] keeps this line from matching itself.
outside='(\.\./shared|/wor[k]/|API\.md|TOOLCHAIN\.md|DESIGN\.md|STYLE\.md|INVENTORY\.md|REVIEW\.md)'
if hits=$(grep -rInE "${skip[@]}" "$outside" .); then
	echo "$hits" >&2
	echo "check-docs: the lines above refer to files outside the repository; cite docs/ instead" >&2
	status=1
fi

# 2. Every § cited must be a numbered section of a page in docs/ (duo-api.md,
# duo-inventory.md). Sections of RFCs ("RFC 8259 §6") are someone else's.
sections=$(sed -nE 's/^#{2,3} ([0-9]+(\.[0-9]+)?)[ .].*/\1/p' docs/*.md | sort -u)
while IFS=: read -r file line cite; do
	[[ $cite == RFC* ]] && continue
	n=${cite#§}
	if ! grep -qxF "$n" <<<"$sections"; then
		echo "$file:$line: cites §$n, which no page of docs/ has" >&2
		status=1
	fi
done < <(grep -rnoE "${skip[@]}" --include='*.go' --include='*.md' --include='*.yaml' --include='*.yml' \
	'(RFC [0-9]+ )?§[0-9]+(\.[0-9]+)?' . || true)

if [ "$status" = 0 ]; then
	echo "docs: no reference outside the repository, every cited section exists"
fi
exit "$status"
