/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stand-alone driver for builds without libFuzzer (gcc): runs a fuzz
 * target's LLVMFuzzerTestOneInput once on each file named on the command
 * line, or on each regular file inside a named directory. The target
 * abort()s on a finding, so exit 0 means every input passed.
 */
#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace
{

bool
run_file(const std::string &path)
{
	std::vector<uint8_t> v;
	uint8_t chunk[4096];
	FILE *f = fopen(path.c_str(), "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path.c_str(), strerror(errno));
		return false;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		v.insert(v.end(), chunk, chunk + n);
	bool ok = !ferror(f);
	fclose(f);
	if (!ok) {
		fprintf(stderr, "replay: %s: read error\n", path.c_str());
		return false;
	}
	LLVMFuzzerTestOneInput(v.data(), v.size());
	return true;
}

} // namespace

int
main(int argc, char **argv)
{
	unsigned runs = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (!run_file(argv[i]))
				return 1;
			runs++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		if (!d) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		while (struct dirent *e = readdir(d)) {
			std::string path = std::string(argv[i]) + "/" + e->d_name;

			/* Dot files and the directory's README are not inputs. */
			if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0 ||
			    stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			if (!run_file(path)) {
				closedir(d);
				return 1;
			}
			runs++;
		}
		closedir(d);
	}
	printf("replay: %u input(s) passed\n", runs);
	return 0;
}
