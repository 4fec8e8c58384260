#pragma once

// Includes Boost.Process v2 as shipped in Boost 1.81, mending two slips of that release:
// with BOOST_PROCESS_USE_STD_FS its config names `boost::optional` without including it, and
// a few templates use `is_convertible`, `decay` and `remove_pointer` unqualified inside
// boost::process::v2.

// This is the only translation unit that includes Process v2, so it compiles its sources too.
#define BOOST_PROCESS_V2_SEPARATE_COMPILATION 1

#include <boost/optional.hpp>

#include <type_traits>

namespace boost::process::v2 {
using std::decay;
using std::enable_if;
using std::is_convertible;
using std::is_same;
using std::remove_pointer;
} // namespace boost::process::v2

#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/start_dir.hpp>
#include <boost/process/v2/stdio.hpp>

#include <boost/process/v2/src.hpp>
