// cppnames: a C++ program whose gperftools heap profile has stacks through C++
// names that are hard to demangle: std::thread's state (std::unique_ptr's
// templated constructor), std::map emplace (std::pair's templated constructor
// with a forwarding reference), std::string built from char const*, std::function
// with a heap-stored functor, lambdas (plain and generic), function templates
// called with an empty parameter pack, std::make_shared, operator new[], an
// anonymous namespace and a gcc clone (.constprop). Built with g++ -O2 -g.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace names {

struct Blob {
    long a[8];
};

// Globals keep blocks alive until the dump.
std::vector<std::vector<int> *> g_vectors;
std::map<int, std::string> *g_map;
std::vector<std::string> *g_strings;
std::vector<std::function<Blob *(int)>> *g_funcs;
std::vector<Blob *> g_blobs;
std::vector<std::shared_ptr<Blob>> *g_shared;
std::vector<char *> g_arrays;
std::vector<std::unique_ptr<Blob>> *g_unique;

// A function template called with an empty pack: mangled with an empty
// template argument pack (J E) and a pack expansion parameter (Dp).
template <typename T, typename... Args>
__attribute__((noinline)) T *make_obj(Args &&...args)
{
    return new T{std::forward<Args>(args)...};
}

// The same with a non-empty pack.
template <typename T, typename... Args>
__attribute__((noinline)) T *make_obj_n(int n, Args &&...args)
{
    T *p = new T{std::forward<Args>(args)...};
    p->a[0] = n;
    return p;
}

template <typename K, typename V>
class Table {
public:
    // std::map::emplace(int&, std::string&&) constructs
    // std::pair<int const, std::string>::pair<int&, std::string, true>.
    __attribute__((noinline)) void put(K &key, V &&value) { map_.emplace(key, std::move(value)); }
    // insert(value_type&&) / insert(P&&).
    __attribute__((noinline)) void insert_pair(std::pair<K, V> p) { map_.insert(std::move(p)); }
    std::map<K, V> &map() { return map_; }

private:
    std::map<K, V> map_;
};

Table<int, std::string> *g_table;

}  // namespace names

namespace {

// Anonymous namespace: demangles as "(anonymous namespace)::".
__attribute__((noinline)) std::string *copy_cstring(const char *s)
{
    // std::string(char const*) with more than 15 characters allocates.
    return new std::string(s);
}

}  // namespace

// Called with a constant second argument: gcc clones it (.constprop.N).
static __attribute__((noinline)) char *alloc_array(int n, int scale)
{
    return new char[static_cast<std::size_t>(n) * scale];
}

__attribute__((noinline)) void run_thread_work(int id)
{
    // Runs on a std::thread: stacks go through libstdc++'s thread start routine
    // and std::thread::_State_impl<...>::_M_run().
    auto *v = new std::vector<int>(256 + id);
    names::g_vectors.push_back(v);
}

__attribute__((noinline)) void start_threads()
{
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; i++) {
        // The std::thread constructor allocates its _State_impl and hands it to
        // std::unique_ptr<std::thread::_State>'s templated constructor.
        ts.emplace_back([i] { run_thread_work(i); });
    }
    for (auto &t : ts)
        t.join();
    // A thread constructed from a function pointer and an argument.
    std::thread t2(run_thread_work, 99);
    t2.join();
}

__attribute__((noinline)) void fill_map()
{
    names::g_table = new names::Table<int, std::string>();
    for (int k = 0; k < 64; k++) {
        int key = k;
        names::g_table->put(key, std::string(40, static_cast<char>('a' + k % 26)));
    }
    for (int k = 64; k < 96; k++)
        names::g_table->insert_pair(std::make_pair(k, std::string("a value long enough to allocate")));
}

__attribute__((noinline)) void fill_strings()
{
    names::g_strings = new std::vector<std::string>();
    for (int i = 0; i < 32; i++) {
        // std::string(char const*, std::allocator<char> const&), inlined here.
        std::string s("a string built from a char const pointer");
        names::g_strings->push_back(s);
        names::g_strings->emplace_back(i + 20, 'z');
    }
    for (int i = 0; i < 8; i++)
        names::g_strings->push_back(*copy_cstring("another char const pointer, long enough"));
}

__attribute__((noinline)) void fill_functions()
{
    names::g_funcs = new std::vector<std::function<names::Blob *(int)>>();
    for (int i = 0; i < 16; i++) {
        long pad[6] = {i, i, i, i, i, i};
        // The capture is larger than std::function's local buffer: the functor
        // itself is heap allocated by std::function's manager.
        names::g_funcs->emplace_back([i, pad](int n) {
            auto *b = new names::Blob{};
            b->a[0] = n + i + pad[5];
            return b;
        });
    }
    for (auto &f : *names::g_funcs)
        names::g_blobs.push_back(f(3));
    // A generic lambda: operator()<int>.
    auto gen = [](auto n) { return names::make_obj_n<names::Blob>(static_cast<int>(n)); };
    for (int i = 0; i < 8; i++)
        names::g_blobs.push_back(gen(i));
}

__attribute__((noinline)) void fill_templates()
{
    for (int i = 0; i < 12; i++)
        names::g_blobs.push_back(names::make_obj<names::Blob>());
    // The same template with a non-empty pack, for contrast.
    for (int i = 0; i < 4; i++)
        names::g_blobs.push_back(names::make_obj<names::Blob>(1L, static_cast<long>(i)));
    names::g_shared = new std::vector<std::shared_ptr<names::Blob>>();
    for (int i = 0; i < 10; i++)
        names::g_shared->push_back(std::make_shared<names::Blob>());
    names::g_unique = new std::vector<std::unique_ptr<names::Blob>>();
    for (int i = 0; i < 10; i++)
        names::g_unique->push_back(std::make_unique<names::Blob>());
    for (int i = 1; i <= 6; i++)
        names::g_arrays.push_back(alloc_array(i * 100, 3));
    for (int i = 1; i <= 6; i++)
        names::g_arrays.push_back(new char[64 * i]);
}

int main()
{
    start_threads();
    fill_map();
    fill_strings();
    fill_functions();
    fill_templates();
    // gperftools' HeapProfilerDump, looked up at run time so the binary does not
    // link libtcmalloc (it is LD_PRELOADed).
    using dump_fn = void (*)(const char *);
    auto dump = reinterpret_cast<dump_fn>(dlsym(RTLD_DEFAULT, "HeapProfilerDump"));
    if (dump != nullptr)
        dump("final");
    else
        std::fprintf(stderr, "cppnames: HeapProfilerDump not found (run with LD_PRELOAD=libtcmalloc.so.4)\n");
    std::printf("%zu %zu %zu\n", names::g_vectors.size(), names::g_blobs.size(), names::g_arrays.size());
    return 0;
}
