// lheapxx: C++ program whose heap is profiled by gperftools (HEAPPROFILE,
// MallocExtension::GetHeapSample, GetHeapGrowthStacks) and by jemalloc
// (prof.dump) for the legacy-format fixtures. Built with g++ -O2 -g as PIE,
// linked against liblegacy.so. It links no allocator: the allocator is
// LD_PRELOADed and its entry points are looked up with dlsym.
//
// Allocation sites (deterministic):
//   demo::store::Pool<Widget>::fill    std::vector growth (the old buffers are freed)
//   demo::store::Registry::add          std::map<std::string,int> nodes + key strings
//   demo::run_lambdas                   a lambda called through std::function
//   demo::shapes::Circle::clone         virtual call, operator new
//   demo::make_big                      one 4 MiB new[], kept
//   demo::recurse                       recursive, 5 levels
//   demo::temporaries                   1000 x std::string(2000), all freed
//   ll_make_table / ll_dup_string       liblegacy.so
//   demo::worker (2 std::threads)       per-thread vectors, alive during the dump
// All of it runs on an "app" thread (see app_main), which starts the workers
// and dumps the profile.
//
// Usage: lheapxx OUTPREFIX
//   gperftools with HEAPPROFILE set: HeapProfilerDump("lheapxx-final").
//   gperftools without it: writes OUTPREFIX.sample.heap (GetHeapSample) and
//     OUTPREFIX.growth.heap (GetHeapGrowthStacks).
//   jemalloc: mallctl("prof.dump") to OUTPREFIX.jeheap.
#include <dlfcn.h>
#include <gperftools/malloc_extension.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "liblegacy.h"

namespace demo {

std::vector<void *> g_keep;  // keeps blocks alive until exit
long g_counter;

namespace store {

struct Widget {
    long id;
    double weight[6];
};

template <typename T>
class Pool {
public:
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
    __attribute__((noinline)) void add(const std::string &key, int value) { map_[key] = value; }
    std::size_t size() const { return map_.size(); }

private:
    std::map<std::string, int> map_;
};

}  // namespace store

namespace shapes {

struct Shape {
    virtual ~Shape() = default;
    virtual Shape *clone() const = 0;
    double scale = 1;
};

struct Circle : Shape {
    double r[8] = {};
    __attribute__((noinline)) Shape *clone() const override { return new Circle(*this); }
};

}  // namespace shapes

__attribute__((noinline)) std::vector<std::unique_ptr<std::string>> run_lambdas(int n)
{
    std::vector<std::unique_ptr<std::string>> out;
    std::function<void(int)> f = [&out](int i) {
        out.push_back(std::make_unique<std::string>(100 + i, 'x'));
    };
    for (int i = 0; i < n; i++)
        f(i);
    return out;
}

__attribute__((noinline)) char *make_big(std::size_t n)
{
    char *p = new char[n];
    p[0] = 1;
    p[n - 1] = 2;
    return p;
}

__attribute__((noinline)) void recurse(int depth)
{
    g_keep.push_back(new long[16]{depth});
    if (depth > 0)
        recurse(depth - 1);
    g_counter += depth;
}

__attribute__((noinline)) std::size_t temporaries(int n)
{
    std::size_t total = 0;
    for (int i = 0; i < n; i++) {
        std::string s(2000, static_cast<char>('a' + i % 26));
        total += s[i % 2000];
    }
    return total;
}

// A latch: workers allocate, then wait until main has dumped.
struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    int allocated = 0;
    bool dumped = false;
};

__attribute__((noinline)) void worker(Gate *gate, int id, std::vector<std::string> *out)
{
    for (int i = 0; i < 300; i++)
        out->emplace_back(64 + 64 * id, static_cast<char>('A' + id));
    std::unique_lock<std::mutex> lock(gate->mu);
    gate->allocated++;
    gate->cv.notify_all();
    gate->cv.wait(lock, [gate] { return gate->dumped; });
}

}  // namespace demo

static void write_file(const std::string &path, const std::string &data)
{
    std::ofstream f(path, std::ios::binary);
    f << data;
}

static void dump(const std::string &prefix)
{
    using DumpFn = void (*)(const char *);
    using RunningFn = int (*)();
    using InstanceFn = MallocExtension *(*)();
    using MallctlFn = int (*)(const char *, void *, std::size_t *, void *, std::size_t);
    auto running = reinterpret_cast<RunningFn>(dlsym(RTLD_DEFAULT, "IsHeapProfilerRunning"));
    auto heap_dump = reinterpret_cast<DumpFn>(dlsym(RTLD_DEFAULT, "HeapProfilerDump"));
    auto instance = reinterpret_cast<InstanceFn>(dlsym(RTLD_DEFAULT, "_ZN15MallocExtension8instanceEv"));
    auto mallctl = reinterpret_cast<MallctlFn>(dlsym(RTLD_DEFAULT, "mallctl"));
    if (running && heap_dump && running()) {
        heap_dump("lheapxx-final");
    } else if (instance) {
        std::string sample, growth;
        instance()->GetHeapSample(&sample);
        instance()->GetHeapGrowthStacks(&growth);
        write_file(prefix + ".sample.heap", sample);
        write_file(prefix + ".growth.heap", growth);
    } else if (mallctl) {
        std::string path = prefix + ".jeheap";
        const char *p = path.c_str();
        if (int err = mallctl("prof.dump", nullptr, nullptr, &p, sizeof p)) {
            std::fprintf(stderr, "lheapxx: prof.dump failed: %d\n", err);
            std::exit(1);
        }
    } else {
        std::fprintf(stderr, "lheapxx: no allocator dump function found\n");
    }
}

// The whole workload runs on a thread of its own ("app"), not on the main
// thread: gperftools' sampler of the main thread is set up by the first
// malloc, before tcmalloc has read TCMALLOC_SAMPLE_PARAMETER, so with
// LD_PRELOAD the main thread never samples anything (GetHeapSample came back
// empty at 524288 when this ran on the main thread).
__attribute__((noinline)) static void app_main(std::string prefix)
{
    using namespace demo;

    auto *pool = new store::Pool<store::Widget>();
    pool->fill(5000);
    auto *registry = new store::Registry();
    for (int i = 0; i < 400; i++)
        registry->add("key-number-" + std::to_string(i * 7919), i);
    auto lambdas = run_lambdas(50);
    shapes::Circle proto;
    std::vector<shapes::Shape *> clones;
    for (int i = 0; i < 100; i++)
        clones.push_back(proto.clone());
    g_keep.push_back(make_big(4 << 20));
    recurse(4);
    g_counter += static_cast<long>(temporaries(1000));
    g_keep.push_back(ll_make_table(16, 16));
    g_keep.push_back(ll_dup_string("lheapxx"));

    Gate gate;
    std::vector<std::string> per_thread[2];
    std::thread threads[2];
    for (int i = 0; i < 2; i++)
        threads[i] = std::thread(worker, &gate, i + 1, &per_thread[i]);
    {
        std::unique_lock<std::mutex> lock(gate.mu);
        gate.cv.wait(lock, [&gate] { return gate.allocated == 2; });
    }
    dump(prefix);
    {
        std::lock_guard<std::mutex> lock(gate.mu);
        gate.dumped = true;
    }
    gate.cv.notify_all();
    for (auto &t : threads)
        t.join();

    std::printf("lheapxx: pool %zu, registry %zu, lambdas %zu, clones %zu, counter %ld\n",
                pool->size(), registry->size(), lambdas.size(), clones.size(), g_counter);
}

int main(int argc, char **argv)
{
    std::thread app(app_main, std::string(argc > 1 ? argv[1] : "lheapxx"));
    app.join();
    return 0;
}
