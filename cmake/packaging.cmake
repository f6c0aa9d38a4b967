# packaging.cmake -- the Debian package of `authstore serve` (CPack DEB).
#
# `cpack -G DEB` in the build directory builds
# authstore_<version>_<arch>.deb from the install rules (CMakeLists.txt,
# "install and package"; cmake/install_service.cmake): /usr/bin/authstore,
# /etc/authstore/authstore.conf (a conffile), the systemd unit, the README
# and the example config. Depends is computed by dpkg-shlibdeps from the
# binary's shared libraries (the Debian runtime packages of CAF, hiredis,
# libmongoc, prometheus-cpp, OpenSSL, libstdc++), plus what the maintainer
# scripts (deploy/debian/) call. tests/package/ installs it and runs it.

find_program(AUTHSTORE_DPKG dpkg)
if(AUTHSTORE_DPKG)
  execute_process(COMMAND ${AUTHSTORE_DPKG} --print-architecture
    OUTPUT_VARIABLE AUTHSTORE_DEB_ARCH OUTPUT_STRIP_TRAILING_WHITESPACE)
else()
  set(AUTHSTORE_DEB_ARCH amd64)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME authstore)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "WhatsApp/Baileys auth state in Redis (hot) and a durable cold store")
set(CPACK_PACKAGE_DESCRIPTION
  "authstore serve keeps Baileys creds and Signal keys per session in Redis,\n\
with MongoDB as the durable cold store, as a CAF actor system; remote\n\
clients (authstore --connect, the C++ client, the Node package) reach it\n\
over an authenticated connection. Runs as the systemd service authstore.")
set(AUTHSTORE_DEB_MAINTAINER
  "authstore maintainers <authstore@example.invalid>" CACHE STRING
  "Maintainer field of the .deb (name <address>)")
set(CPACK_PACKAGE_CONTACT ${AUTHSTORE_DEB_MAINTAINER})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Release binaries are stripped in the package (the build tree keeps its
# debug information for gdb and perf).
set(CPACK_STRIP_FILES ON)

set(AUTHSTORE_DEB_FILE
  authstore_${PROJECT_VERSION}_${AUTHSTORE_DEB_ARCH}.deb)
set(CPACK_DEBIAN_FILE_NAME ${AUTHSTORE_DEB_FILE})
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${AUTHSTORE_DEB_ARCH})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The maintainer scripts' own needs; dpkg-shlibdeps adds the libraries.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.52)")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-server")

# The conffiles list names what install_service.cmake installs for prefix
# /usr; CPACK_PACKAGING_INSTALL_PREFIX above is that prefix.
file(WRITE ${PROJECT_BINARY_DIR}/deploy/debian/conffiles
  "/etc/authstore/authstore.conf\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
  ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
  ${PROJECT_SOURCE_DIR}/deploy/debian/postrm
  ${PROJECT_BINARY_DIR}/deploy/debian/conffiles)
# Scripts 0755, conffiles 0644, as dpkg expects.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)
