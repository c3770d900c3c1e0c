package loader

// Ldd returns the load list in ldd's layout, one line per object after
// the program: "\tNAME => PATH", "\tNAME => not found", or "\tPATH" when
// the object was asked for by the path it was opened by (the loader
// itself). The addresses ldd prints and the kernel's vDSO, which no file
// holds, are left out. An object that loads nothing else is "statically
// linked", as the loader says (rtld.c) even of a shared library.
// A loader that fails prints no list, and neither does Ldd.
//
// musl's loader prints itself first, then each object as it loads it,
// the libraries it implements (libc.so, …) as "NAME => LOADER", and
// nothing for a library it cannot find; Ldd does the same.
func (g *Graph) Ldd() []string {
	if g.Error != "" {
		return nil
	}
	if g.Libc == "musl" {
		return g.list
	}
	if len(g.Objects) == 1 {
		return []string{"\tstatically linked"}
	}
	var lines []string
	for _, o := range g.Objects {
		switch {
		case o.Rule == RuleMain:
		case !o.Found():
			lines = append(lines, "\t"+o.Name+" => not found")
		case o.Name == o.Path:
			lines = append(lines, "\t"+o.Path)
		default:
			lines = append(lines, "\t"+o.Name+" => "+o.Path)
		}
	}
	return lines
}
