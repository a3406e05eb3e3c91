// cppdemo: C++ program whose heap profile is recorded by gperftools.
// Built with g++ -O2 -g as PIE. Names need demangling: namespaces, a class
// template, member functions, a lambda, std::vector and std::map growth.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

// Globals for data-address lookups.
namespace demo {
int g_generation = 7;                                       // .data (mangled: _ZN4demo12g_generationE)
char g_scratch[256];                                        // .bss  (_ZN4demo9g_scratchE)
extern const char g_label[] = "cppdemo label: pprofsym native fixture"; // .rodata
}  // namespace demo

namespace demo {
namespace store {

struct Widget {
    long id;
    double weight[6];
};

template <typename T>
class Pool {
public:
    explicit Pool(std::size_t reserve) { items_.reserve(reserve); }

    // std::vector growth: reallocates as the pool grows.
    __attribute__((noinline)) void fill(std::size_t n)
    {
        for (std::size_t i = 0; i < n; i++)
            items_.push_back(T{static_cast<long>(i), {}});
    }

    std::size_t size() const { return items_.size(); }

private:
    std::vector<T> items_;
};

class Registry {
public:
    // std::map growth: one node allocation per insert, plus string storage.
    __attribute__((noinline)) void add(const std::string &key, int value)
    {
        index_[key] = value;
        g_generation++;
    }

    __attribute__((noinline)) std::unique_ptr<Widget[]> make_widgets(std::size_t n) const
    {
        return std::unique_ptr<Widget[]>(new Widget[n]);
    }

    std::size_t size() const { return index_.size(); }

private:
    std::map<std::string, int> index_;
};

}  // namespace store

__attribute__((noinline)) std::vector<std::unique_ptr<char[]>> *run_lambdas(int rounds)
{
    auto *out = new std::vector<std::unique_ptr<char[]>>();
    // The lambda is invoked through std::function so it is a real call target.
    std::function<char *(int)> alloc_chunk = [](int i) {
        char *p = new char[1000 + i];
        g_scratch[i & 255] = static_cast<char>(i);
        return p;
    };
    for (int i = 0; i < rounds; i++)
        out->emplace_back(alloc_chunk(i));
    return out;
}

}  // namespace demo

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? std::atoi(argv[1]) : 16;

    auto *pool = new demo::store::Pool<demo::store::Widget>(2);
    pool->fill(static_cast<std::size_t>(rounds) * 8);

    auto *registry = new demo::store::Registry();
    for (int i = 0; i < rounds; i++)
        registry->add(std::string("key-with-a-long-enough-name-") + std::to_string(i), i);
    auto widgets = registry->make_widgets(static_cast<std::size_t>(rounds));

    auto *chunks = demo::run_lambdas(rounds);

    auto dump = reinterpret_cast<void (*)(const char *)>(dlsym(RTLD_DEFAULT, "HeapProfilerDump"));
    if (dump)
        dump("cppdemo-final");

    std::printf("%s: pool %zu, registry %zu, chunks %zu, gen %d\n", demo::g_label, pool->size(),
                registry->size(), chunks->size(), demo::g_generation);
    return widgets ? 0 : 1;
}
