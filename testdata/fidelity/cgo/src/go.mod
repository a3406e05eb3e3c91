module cgodemo

go 1.22
