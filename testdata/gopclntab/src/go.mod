module example.com/inlfix

go 1.19
