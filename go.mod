module github.com/hitch-hpc/hitch

go 1.26.8

require github.com/google/go-cmp v0.7.0 // indirect
