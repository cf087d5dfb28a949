/* SQLite 3 (the system library): results databases of `stalwart eval`. */
#include <sqlite3.h>
