module github.com/secretwatch/secretwatch

go 1.26
