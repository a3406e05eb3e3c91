module godemo

go 1.27
