module github.com/redline-go/redline

go 1.26
