/* cxx-plugin.cpp: a backend plugin written in C++ against the installed
 * plugin header: a std::map under a std::mutex.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dogpile/dogpile-plugin.h>

#include <map>
#include <mutex>
#include <string>

struct DogpileBackendImpl {
  std::mutex lock;
  std::map<std::string, GBytes *> values;
  std::string prefix;

  ~DogpileBackendImpl ()
  {
    for (auto &kv : values)
      g_bytes_unref (kv.second);
  }
};

static DogpileBackendImpl *
cxx_create (GHashTable *arguments, GError **error)
{
  const char *prefix = NULL;

  if (!dogpile_arguments_get_string (arguments, "prefix", "", &prefix, error))
    return NULL;
  auto *self = new DogpileBackendImpl ();
  self->prefix = prefix;
  return self;
}

static void
cxx_destroy (DogpileBackendImpl *self)
{
  delete self;
}

static gboolean
cxx_get (DogpileBackendImpl *self, const char *key, GBytes **out_value,
         GError **)
{
  std::lock_guard<std::mutex> hold (self->lock);
  auto it = self->values.find (self->prefix + key);

  *out_value = it == self->values.end () ? NULL : g_bytes_ref (it->second);
  return TRUE;
}

static gboolean
cxx_set (DogpileBackendImpl *self, const char *key, GBytes *value, GError **)
{
  std::lock_guard<std::mutex> hold (self->lock);
  GBytes *&slot = self->values[self->prefix + key];

  if (slot != NULL)
    g_bytes_unref (slot);
  slot = g_bytes_ref (value);
  return TRUE;
}

static gboolean
cxx_delete (DogpileBackendImpl *self, const char *key, GError **)
{
  std::lock_guard<std::mutex> hold (self->lock);
  auto it = self->values.find (self->prefix + key);

  if (it != self->values.end ())
    {
      g_bytes_unref (it->second);
      self->values.erase (it);
    }
  return TRUE;
}

/* C++17 has no designated initializers: fill the descriptor member by
 * member, once, when the module is loaded. */
static DogpileBackendDesc
make_desc ()
{
  DogpileBackendDesc desc = {};

  desc.abi_version = DOGPILE_BACKEND_ABI_VERSION;
  desc.name = "cxx.example";
  desc.description = "A backend written in C++ (std::map)";
  desc.version = DOGPILE_VERSION_STRING;
  desc.create = cxx_create;
  desc.destroy = cxx_destroy;
  desc.get = cxx_get;
  desc.set = cxx_set;
  desc.delete_key = cxx_delete;
  return desc;
}

static const DogpileBackendDesc cxx_desc = make_desc ();

DOGPILE_BACKEND_DEFINE (cxx, cxx_desc)
