module generics

go 1.19
