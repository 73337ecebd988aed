/**
 * Test fixtures: firewalld's `inet firewalld` forward path as nft text, for the bundle tests of the
 * host-firewall link (client's node and endpoint's node). (Only imported by tests.)
 */

/** A firewalld 0.8-style zone table: the forward chain ends in `reject with icmpx admin-prohibited`. */
export const FIREWALLD = `table inet firewalld {
  chain filter_FORWARD {
    type filter hook forward priority filter + 10; policy accept;
    ct state { established, related } accept
    ct state invalid drop
    iifname "lo" accept
    jump filter_FORWARD_IN_ZONES
    reject with icmpx type admin-prohibited
  }
  chain filter_FORWARD_IN_ZONES {
    iifname "eth0" goto filter_FWDI_public
    goto filter_FWDI_public
  }
  chain filter_FWDI_public {
    jump filter_FWDI_public_allow
  }
  chain filter_FWDI_public_allow {
  }
}`;

/** The same firewalld table after `firewall-cmd --zone=trusted --add-source=10.42.0.0/16`. */
export const FIREWALLD_TRUSTED = FIREWALLD.replace(
  'iifname "eth0" goto filter_FWDI_public',
  'ip saddr 10.42.0.0/16 accept\n    iifname "eth0" goto filter_FWDI_public',
);
