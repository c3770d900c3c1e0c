package cli

import (
	"fmt"
	"strings"
)

var helpTopics = map[string]string{
	"exit-codes": `Exit codes, the same for every hitch command:

  0  the answer is yes (everything loads and binds), or the command only
     reports (inspect) and every input was read
  1  the answer is no: something will not load or bind
  2  usage error, or an error that stopped the command
  3  some inputs could not be read (a malformed ELF file, a directory that
     cannot be listed); they are named on stderr and the rest was answered

except hitch diff and hitch compat, which keep abidiff's bitmask so
scripts written for abidiff and abicompat keep working:

  0  no ABI change
  1  an error (a file could not be read)
  2  usage error
  4  the ABI changed (bit 4), compatibly unless bit 8 is set too
  12 the ABI changed incompatibly (bits 4 and 8)
`,
	"suppressions": `Suppression files (hitch diff and hitch compat --suppress FILE) leave
changes out of a report, as abidiff's suppression specifications do in
spirit. One rule a line; # starts a comment:

  symbol PATTERN    a symbol, by name or name@version
  version PATTERN   a version node, and every symbol at it
  library PATTERN   a library, by soname (when trees are compared)
  kind KIND         a kind of change: symbol-removed, symbol-added,
                    symbol-version-moved, default-version-changed,
                    size-changed, kind-changed, binding-changed,
                    version-removed, version-added, soname-changed,
                    needed-added, needed-removed, isa-level-raised, …

PATTERN is a shell pattern (*, ?, [...]). Example:

  version GLIBC_PRIVATE     # glibc's own pieces bind to these
  symbol  _ZN7mylib6detail*  # the detail namespace is not API
  kind    needed-added
`,
}

func runHelp(e *env, args []string) error {
	fs := newFlags(e, "help", "[command | topic]", "Show help for a command, or for a topic: exit-codes, suppressions.")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	switch len(pos) {
	case 0:
		printUsage(e.stdout)
		return nil
	case 1:
	default:
		return usagef("help takes one command or topic")
	}
	if text, ok := helpTopics[pos[0]]; ok {
		_, err := fmt.Fprint(e.stdout, text)
		return err
	}
	for _, c := range commands() {
		if c.name == pos[0] && c.name != "help" {
			return c.run(e, []string{"--help"})
		}
	}
	var topics []string
	for t := range helpTopics {
		topics = append(topics, t)
	}
	return usagef("no command or topic %q (topics: %s)", pos[0], strings.Join(topics, ", "))
}
