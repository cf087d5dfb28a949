print("stalwart")
