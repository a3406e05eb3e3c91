module growdemo

go 1.27
