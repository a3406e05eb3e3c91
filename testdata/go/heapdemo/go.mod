module heapdemo

go 1.27
