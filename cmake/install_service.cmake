# install_service.cmake -- runs at install time (`cmake --install`, and
# CPack's staged install for the .deb) to install the systemd unit and the
# configuration where the install prefix puts them.
#
# Why at install time: the unit names absolute paths (the binary, the config
# file), and the prefix is known only now -- `cmake --install --prefix P`
# and CPack (prefix /usr, files staged under DESTDIR) both override the one
# given at configure time. file(INSTALL) prepends DESTDIR itself.
#
#   prefix /usr (the .deb)    /etc/authstore/authstore.conf
#                             /lib/systemd/system/authstore.service
#                             (Debian 12 ships units under /lib)
#   any other prefix P        P/etc/authstore/authstore.conf
#                             P/lib/systemd/system/authstore.service
#                             (systemd also reads /usr/local/lib/systemd/system)
#
# The config file is installed only when missing, so `cmake --install` over
# an installed, edited copy keeps it (dpkg keeps it as a conffile). The
# current example always goes to DOCDIR/examples/authstore.conf, for a diff
# after an upgrade. Inputs (set by CMakeLists.txt through install(CODE)):
# authstore_unit_template, authstore_example_conf, authstore_bindir,
# authstore_docdir (the last two relative to the prefix).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(etc_dir /etc/authstore)
  set(unit_dir /lib/systemd/system)
else()
  set(etc_dir ${CMAKE_INSTALL_PREFIX}/etc/authstore)
  set(unit_dir ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()

# The names authstore.service.in uses.
set(AUTHSTORE_BINARY ${CMAKE_INSTALL_PREFIX}/${authstore_bindir}/authstore)
set(AUTHSTORE_CONF_FILE ${etc_dir}/authstore.conf)
set(AUTHSTORE_SECRET_FILE ${etc_dir}/secret)
set(AUTHSTORE_DOC_DIR ${CMAKE_INSTALL_PREFIX}/${authstore_docdir})

# One file per destination: installs to two prefixes may run at once (CTest
# runs cpack and the cmake --install test in parallel).
get_filename_component(example_dir ${authstore_example_conf} DIRECTORY)
string(MD5 destination "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}")
set(unit_file ${example_dir}/install/${destination}/authstore.service)
configure_file(${authstore_unit_template} ${unit_file} @ONLY)
file(INSTALL ${unit_file} DESTINATION ${unit_dir}
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

file(INSTALL ${authstore_example_conf}
     DESTINATION ${AUTHSTORE_DOC_DIR}/examples
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
if(EXISTS "$ENV{DESTDIR}${AUTHSTORE_CONF_FILE}")
  message(STATUS "Kept (exists): $ENV{DESTDIR}${AUTHSTORE_CONF_FILE}")
else()
  file(INSTALL ${authstore_example_conf} DESTINATION ${etc_dir}
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
